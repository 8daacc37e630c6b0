"""The asset spec every stage shares (pool, group, kinds, code version), built in one place.

The code version is a hash of the source that produces a stage's rows (its asset module and the library
modules it calls), so Dagster's "code version changed" staleness tells the truth after an upgrade.
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path
from typing import Any, Callable, Sequence

import dagster as dg

from assets.partitions import family_partitions

# Every asset that opens the DuckDB file runs in this pool (limit 1 in dagster.yaml): one writer.
POOL = "duckdb"
GROUP = "planfusion"

# What produces each stage's rows, besides its own asset module.
# planfusion.reuse and assets.stage_inputs decide whether a stage's rows are rewritten, planfusion.tables
# what it reads.
_SHARED = ("planfusion.warehouse", "planfusion.tables", "planfusion.reuse", "assets.stage_inputs")
STAGE_SOURCES: dict[str, tuple[str, ...]] = {
    "raw_tasks": ("planfusion.stages.raw", "planfusion.tasks", *_SHARED),
    "curated_tasks": ("planfusion.stages.curation", "planfusion.tasks", *_SHARED),
    "task_embeddings": ("planfusion.stages.embeddings", "planfusion.embedding", "planfusion.encoders", *_SHARED),
    "density_factors": ("planfusion.stages.selection", "planfusion.novelsum", *_SHARED),
    "family_selection": ("planfusion.stages.selection", "planfusion.novelsum", *_SHARED),
    "fused_training_set": ("planfusion.stages.fusion", "planfusion.stages.selection", "planfusion.novelsum",
                           *_SHARED),
}


def _source_files(module: str) -> list[Path]:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ImportError(f"cannot find the source of {module}")
    origin = Path(spec.origin)
    if spec.submodule_search_locations:  # a package: every source file in it
        return sorted(p for p in origin.parent.rglob("*") if p.suffix in (".py", ".c") and "__pycache__" not in p.parts)
    return [origin]


def code_version(modules: Sequence[str]) -> str:
    """First 12 hex digits of the sha256 of the modules' source files."""
    digest = hashlib.sha256()
    for module in modules:
        for path in _source_files(module):
            digest.update(f"{module}:{path.name}\0".encode() + path.read_bytes())
    return digest.hexdigest()[:12]


def stage_asset(name: str, *, module: str, deps: Sequence[Any] = (), kinds: set[str], partitioned: bool = True,
                check_specs: Sequence[dg.AssetCheckSpec] = (), **extra: Any) -> Callable:
    """@dg.asset for a pipeline stage, with the shared spec; ``module`` is the asset's own module."""
    return dg.asset(
        name=name,
        partitions_def=family_partitions if partitioned else None,
        deps=list(deps),
        pool=POOL,
        code_version=code_version((module, *STAGE_SOURCES[name])),
        group_name=GROUP,
        kinds=kinds,
        check_specs=list(check_specs),
        **extra,
    )
