"""Every chosen sample with its lineage, as a table in the selection assets' metadata, so a user can see
in the UI where each sample came from and why it was chosen (not only the first ten)."""


from typing import Any

import dagster as dg

COLUMNS = [("task_id", "string"), ("family", "string"), ("source", "string"), ("verdict", "string"),
           ("sigma", "float"), ("family_step", "int"), ("fusion_step", "int"), ("novelty", "float"),
           ("contributors", "string")]


def _cell(value: Any) -> Any:
    return round(value, 4) if isinstance(value, float) else value


def chosen_samples_table(samples: list[dict[str, Any]], fused: bool) -> dg.MetadataValue:
    """A table metadata value (numbers rounded for reading); the fusion step only for the fused set."""
    columns = [c for c in COLUMNS if fused or c[0] != "fusion_step"]
    return dg.MetadataValue.table(
        records=[dg.TableRecord({name: _cell(sample[name]) for name, _ in columns}) for sample in samples],
        schema=dg.TableSchema(columns=[dg.TableColumn(name, kind) for name, kind in columns]),
    )
