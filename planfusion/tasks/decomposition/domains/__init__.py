"""The domains of the action library, validated once at import."""

from planfusion.tasks.decomposition.domains import (
    cooking,
    data_analysis,
    event_planning,
    home_renovation,
    marketing,
    research,
    software_release,
    travel,
)
from planfusion.tasks.decomposition.library import Domain, validate

DOMAINS: dict[str, Domain] = {
    module.DOMAIN.key: module.DOMAIN
    for module in (travel, data_analysis, software_release, cooking, research, event_planning, home_renovation,
                   marketing)
}
for _domain in DOMAINS.values():
    validate(_domain)
