"""The inbox sensor and the automation sensor that keeps the fused set up to date."""

from __future__ import annotations

import hashlib
import json

import dagster as dg

from orchestration import settings
from planfusion.stages.raw import inbox_files
from planfusion.tasks import FAMILIES
from planfusion.tasks.ingest import file_fingerprint

family_pipeline = dg.define_asset_job(
    "family_pipeline",
    selection=dg.AssetSelection.assets("raw_tasks", "curated_tasks", "task_embeddings", "density_factors", "family_selection"),
    description="Every per-family stage for one family partition.",
)


def inbox_fingerprint(family: str, inbox: str) -> str | None:
    """Hash of the family's task files (names and contents); None when there are none."""
    files = inbox_files(inbox, family)
    if not files:
        return None
    digest = hashlib.sha256()
    for path in files:
        digest.update(f"{path.name}\0{file_fingerprint(path)}\n".encode())
    return digest.hexdigest()[:16]


@dg.sensor(job=family_pipeline, minimum_interval_seconds=15, default_status=dg.DefaultSensorStatus.RUNNING)
def inbox_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    """A new or changed task file in inbox/<family>/ requests a run of that family's partition. The
    run key is the content fingerprint, so the same content never runs twice. Looks at files only:
    sensors never open the DuckDB file."""
    seen = json.loads(context.cursor) if context.cursor else {}
    requests = []
    for family in FAMILIES:
        fingerprint = inbox_fingerprint(family, settings.inbox())
        if fingerprint is None or seen.get(family) == fingerprint:
            continue
        seen[family] = fingerprint
        requests.append(dg.RunRequest(run_key=f"{family}:{fingerprint}", partition_key=family,
                                      tags={"planfusion/trigger": "inbox"}))
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(seen, sort_keys=True))


automation_sensor = dg.AutomationConditionSensorDefinition(
    "planfusion_automation",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=15,
)
