"""The code location: assets, checks, resources, the inbox sensor and the automation sensor."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from assets import ALL_ASSETS
from assets.lineage_job import task_lineage_job
from assets.resources import EmbeddingModel, PipelinePaths
from assets.settings import PipelineSettingsResource
from orchestration import settings
from orchestration.sensors import automation_sensor, family_pipeline, inbox_sensor

defs = dg.Definitions(
    assets=ALL_ASSETS,
    jobs=[family_pipeline, task_lineage_job],
    sensors=[inbox_sensor, automation_sensor],
    resources={
        "duckdb": DuckDBResource(database=settings.database()),
        "paths": PipelinePaths(inbox=settings.inbox(), exports=settings.exports()),
        "embedding_model": EmbeddingModel(),
        "settings": PipelineSettingsResource(config_file=settings.config_file()),
    },
    executor=dg.in_process_executor,
)
