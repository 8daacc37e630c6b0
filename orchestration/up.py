"""`planfusion up`: materialize the whole pipeline on the persisted settings (planfusion.yaml) into the local
instance, print what it made, then serve the Dagster UI and daemon on 127.0.0.1 until interrupted."""

import argparse
import os
import sys
import time
from pathlib import Path

import dagster as dg

from orchestration.instance import (
    InstanceConfigError,
    check_postgres_ready,
    prepare_home,
)
from planfusion import warehouse
from planfusion.settings import (
    CONFIG_VARIABLE,
    DEFAULT_CONFIG,
    SettingsError,
    load_settings,
)
from planfusion.tasks import FAMILIES


def pin_paths() -> None:
    """Absolute warehouse, inbox, export and settings paths, shared by this process and the server it
    starts; the inbox's family folders are created so users see where to drop files."""
    for variable, default in (("PLANFUSION_DB", warehouse.DEFAULT_DATABASE), ("PLANFUSION_INBOX", "inbox"),
                              ("PLANFUSION_EXPORTS", "warehouse/exports"), (CONFIG_VARIABLE, DEFAULT_CONFIG)):
        os.environ[variable] = str(Path(os.environ.get(variable, default)).resolve())
    for family in FAMILIES:
        Path(os.environ["PLANFUSION_INBOX"], family).mkdir(parents=True, exist_ok=True)


def check_settings() -> None:
    """Fail before any run with the file and the field when planfusion.yaml is wrong."""
    try:
        load_settings()
    except SettingsError as exc:
        raise SystemExit(f"[planfusion up] {exc}") from None


QUIET = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
UP_PID_TAG = "planfusion/up_pid"
UNFINISHED = [dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def release_dead_up_runs(instance: dg.DagsterInstance) -> list[str]:
    """Runs of an earlier `planfusion up` whose process is gone (Ctrl-C, kill -9, OOM) still look
    started and hold their `duckdb` pool slots, so this `up` would wait on them forever: mark them
    failed and free their slots. Runs of a live process are left alone."""
    released = []
    for record in instance.get_run_records(dg.RunsFilter(statuses=UNFINISHED)):
        run = record.dagster_run
        pid = run.tags.get(UP_PID_TAG)
        if pid is None or _alive(int(pid)):
            continue
        instance.report_run_failed(run, f"the planfusion up process {pid} that ran it is gone")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        released.append(run.run_id)
    return released


def materialize_everything(instance: dg.DagsterInstance) -> list[str]:
    """Every family partition, then the fusion, on the persisted settings; the runs are recorded in
    the instance like UI runs."""
    from orchestration.definitions import defs

    job = defs.resolve_job_def("family_pipeline")
    tags = {UP_PID_TAG: str(os.getpid())}
    run_ids = []
    for family in FAMILIES:
        start = time.perf_counter()
        print(f"[planfusion up] {family}: generating, curating, embedding, selecting ...", flush=True)
        result = job.execute_in_process(partition_key=family, instance=instance, run_config=QUIET, tags=tags)
        print(f"[planfusion up] {family}: done in {time.perf_counter() - start:.1f}s (run {result.run_id})", flush=True)
        run_ids.append(result.run_id)
    fusion = defs.resolve_implicit_global_asset_job_def().get_subset(
        asset_selection={dg.AssetKey("fused_training_set")})
    result = fusion.execute_in_process(instance=instance, run_config=QUIET, tags=tags)
    print(f"[planfusion up] fused_training_set: done (run {result.run_id})", flush=True)
    return [*run_ids, result.run_id]


def summary(database: str, instance: dg.DagsterInstance) -> str:
    """Rows per stage and family, selection sizes, and the fused set's NovelSum against a random subset
    of the same size (as recorded in the fusion's materialization metadata)."""
    with warehouse.connect(database, read_only=True) as con:
        lines = [f"warehouse: {database}", "", f"{'table':<22}" + "".join(f"{f:>16}" for f in FAMILIES)]
        for table in ("raw_tasks", "ingest_rejections", "curated_tasks", "task_embeddings", "density_factors",
                      "family_selection", "fused_training_set"):
            counts = dict(con.execute(f"SELECT family, count(*) FROM {table} GROUP BY family").fetchall())
            lines.append(f"{table:<22}" + "".join(f"{counts.get(f, 0):>16}" for f in FAMILIES))
            if table == "curated_tasks":
                kept = dict(con.execute("SELECT family, count(*) FROM curated_tasks WHERE kept GROUP BY family").fetchall())
                lines.append(f"{'  of which kept':<22}" + "".join(f"{kept.get(f, 0):>16}" for f in FAMILIES))
    event = instance.get_latest_materialization_event(dg.AssetKey("fused_training_set"))
    if event is not None and event.asset_materialization is not None:
        metadata = {k: v.value for k, v in event.asset_materialization.metadata.items()}
        lines += ["", (f"fused training set: {metadata['dagster/row_count']} of {metadata['pool']} selected tasks, "
                       f"shares {metadata['family_shares']}"),
                  (f"NovelSum {metadata['novelsum_fused']:.4g} vs {metadata['novelsum_random_same_size']:.4g} "
                   f"for a random subset of the same size"),
                  f"ready for fine-tuning: {metadata['jsonl']}  {metadata['parquet']}"]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    storage = args.storage
    try:
        if storage == "postgres":
            check_postgres_ready()
        home = prepare_home(Path(args.home).resolve(), storage)
    except InstanceConfigError as exc:
        raise SystemExit(f"[planfusion up] {exc}") from None
    os.environ["DAGSTER_HOME"] = str(home)
    pin_paths()
    check_settings()
    print(f"[planfusion up] settings: {os.environ[CONFIG_VARIABLE]}; instance: {home} ({storage} storage)", flush=True)
    start = time.perf_counter()
    with dg.DagsterInstance.get() as instance:
        for run_id in release_dead_up_runs(instance):
            print(f"[planfusion up] run {run_id} of an earlier, killed `up`: marked failed, pool slots freed", flush=True)
        materialize_everything(instance)
        print(f"\n[planfusion up] pipeline materialized in {time.perf_counter() - start:.0f}s\n", flush=True)
        print(summary(os.environ["PLANFUSION_DB"], instance), flush=True)
    if args.no_serve:
        return 0
    dagster = Path(sys.executable).with_name("dagster")
    command = [str(dagster if dagster.exists() else "dagster"), "dev", "-m", "orchestration.definitions",
               "-h", "127.0.0.1", "-p", str(args.port)]
    print(f"\n[planfusion up] serving http://127.0.0.1:{args.port} (Ctrl-C to stop): {' '.join(command)}", flush=True)
    os.execvp(command[0], command)
