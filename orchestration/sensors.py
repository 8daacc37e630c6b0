"""The inbox sensor and the automation sensor that keeps the fused set up to date."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import dagster as dg

from orchestration import settings
from planfusion.stages.raw import inbox_entries
from planfusion.tasks import FAMILIES
from planfusion.tasks.ingest import file_fingerprint

family_pipeline = dg.define_asset_job(
    "family_pipeline",
    selection=dg.AssetSelection.assets("raw_tasks", "curated_tasks", "task_embeddings", "density_factors", "family_selection"),
    description="Every per-family stage for one family partition.",
)

REQUEST_TAG = "planfusion/inbox_request"
MAX_ATTEMPTS = 3  # a run that failed this often for the same content waits for the content to change
FAILED = (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)


def inbox_fingerprint(files: list[Path]) -> str:
    """Hash of the family's task files (names and contents); the hash of nothing when there are none."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(f"{path.name}\0{file_fingerprint(path)}\n".encode())
    return digest.hexdigest()[:16]


EMPTY = hashlib.sha256().hexdigest()[:16]


def _request(family: str, fingerprint: str, sequence: int, attempt: int) -> tuple[dg.RunRequest, dict[str, Any]]:
    key = f"{family}:{fingerprint}:{sequence}" + (f":attempt{attempt}" if attempt > 1 else "")
    state = {"fingerprint": fingerprint, "sequence": sequence, "attempt": attempt, "run_key": key}
    return dg.RunRequest(run_key=key, partition_key=family,
                         tags={"planfusion/trigger": "inbox", REQUEST_TAG: key}), state


def _last_run_failed(instance: dg.DagsterInstance, run_key: str) -> bool:
    records = instance.get_run_records(dg.RunsFilter(tags={REQUEST_TAG: run_key}), limit=1)
    return bool(records) and records[0].dagster_run.status in FAILED


def family_request(instance: dg.DagsterInstance, family: str, fingerprint: str,
                   state: dict[str, Any] | None) -> tuple[dg.RunRequest | None, dict[str, Any] | None, str | None]:
    """What the sensor asks for one family: a run when the inbox differs from the content last requested
    (new, changed, removed files, or back to an earlier set: every request gets a new sequence number, so
    run keys never repeat), or again when that run failed or was killed (up to MAX_ATTEMPTS); nothing when
    it succeeded or is still going. Returns (request, new state, a note for the tick log)."""
    if state is None:
        if fingerprint == EMPTY:
            return None, None, None  # never had files: the first fill is `planfusion up` or the UI
        request, new = _request(family, fingerprint, 1, 1)
        return request, new, f"{family}: new inbox content {fingerprint}"
    if state["fingerprint"] != fingerprint:
        request, new = _request(family, fingerprint, state["sequence"] + 1, 1)
        what = "files removed" if fingerprint == EMPTY else "inbox content changed"
        return request, new, f"{family}: {what} ({state['fingerprint']} -> {fingerprint})"
    if not _last_run_failed(instance, state["run_key"]):
        return None, state, None
    if state["attempt"] >= MAX_ATTEMPTS:
        return None, state, (f"{family}: the run for {fingerprint} failed {MAX_ATTEMPTS} times; "
                             "not retrying until the inbox changes (see the run's error)")
    request, new = _request(family, fingerprint, state["sequence"], state["attempt"] + 1)
    return request, new, f"{family}: run {state['run_key']} failed; requesting attempt {new['attempt']}"


@dg.sensor(job=family_pipeline, minimum_interval_seconds=15, default_status=dg.DefaultSensorStatus.RUNNING,
           description=f"Watches {Path(settings.inbox()).resolve()}/<family>/*.jsonl: new, changed or removed task "
                       "files request a run of that family's partition; a failed or killed run is requested again.")
def inbox_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    """Converges each family to its inbox's content. The cursor remembers the content last requested per
    family; whether that run succeeded comes from the instance. Looks at files only: sensors never open
    the DuckDB file."""
    inbox = settings.inbox()
    seen = json.loads(context.cursor) if context.cursor else {}
    requests = []
    for family in FAMILIES:
        files, skipped = inbox_entries(inbox, family)
        for path, what in skipped:
            context.log.warning(f"{path}: skipped, {what}: only regular files are task files")
        state = seen.get(family)
        if isinstance(state, str):  # a cursor from before attempts were tracked: that content was requested
            state = {"fingerprint": state, "sequence": 0, "attempt": 1, "run_key": f"{family}:{state}"}
        request, state, note = family_request(context.instance, family, inbox_fingerprint(files), state)
        if note:
            context.log.info(f"{Path(inbox, family)}: {note}")
        if state is not None:
            seen[family] = state
        if request is not None:
            requests.append(request)
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(seen, sort_keys=True))


automation_sensor = dg.AutomationConditionSensorDefinition(
    "planfusion_automation",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=15,
)
