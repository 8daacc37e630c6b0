"""One static partition per task family."""

import dagster as dg

from planfusion.tasks import FAMILIES

family_partitions = dg.StaticPartitionsDefinition(list(FAMILIES))
