"""Dagster assets: one module per stage, each a thin wrapper around planfusion.stages."""

from assets.curated_tasks import curated_tasks
from assets.density_factors import density_factors
from assets.family_selection import family_selection
from assets.fused_training_set import fused_training_set
from assets.raw_tasks import raw_tasks
from assets.task_embeddings import task_embeddings

FAMILY_ASSETS = [raw_tasks, curated_tasks, task_embeddings, density_factors, family_selection]
ALL_ASSETS = [*FAMILY_ASSETS, fused_training_set]
