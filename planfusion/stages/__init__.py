"""The pipeline's stages as plain functions over records, arrays and warehouse connections: the
Dagster assets in ``assets/`` are thin wrappers around these (one module per stage)."""
