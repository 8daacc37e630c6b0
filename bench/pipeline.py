"""The whole pipeline at scale (#14): N tasks per family through every stage, driven as users drive it.

    .venv/bin/python bench/pipeline.py [--n 10000] [--quick] [--out report.md] [--baseline-sample 1000]

Three runs on a fresh warehouse, each a fresh process doing what `planfusion up` does
(orchestration.up.materialize_everything: the family_pipeline job per family partition, then the fusion,
on a real DagsterInstance in a temporary DAGSTER_HOME, settings from a temporary planfusion.yaml):

1. first run: generation.n = N per family, empty inbox;
2. no-change rerun: nothing new (must embed 0 texts);
3. incremental run: one new inbox file of 100 tasks (decomposition, another seed).

How it is measured. Wall time per stage is the step's STEP_START..STEP_SUCCESS span in the Dagster event
log, summed over the three family runs; "dagster" is the rest of each run (run start, resources, event
writes, checks) and "process" the worker's start (imports, definitions, instance) before the first run.
Peak RSS: this process reads the worker's /proc/<pid>/status VmRSS every 20 ms; a stage's peak is the
largest sample inside its steps' spans. The worker runs every step in one process (the in-process executor
of orchestration.definitions), so a stage's peak also holds what earlier stages left resident (the
embedding model once loaded, allocator pools). The total is the kernel's own peak (VmHWM, read at exit).

Baseline, measured in the same run: the embedding stage is the bottleneck, so the embedding path before
#14 (bench/embedding.py's baseline: the same windows decoded to text through sentence-transformers, torch
fp32) is timed on a sample of the kept texts and extrapolated to every kept text (labelled so); the engine
the pipeline runs (the settings' embedding section, "auto") is timed on the same sample. --old-memory
measures the raw and curation stage functions of main before #14 (BEFORE_14), which held every record.

--prefill-cache: when embedding every text is more than the time at hand (about 30k texts at a few texts/s
on a busy 2-core machine), the embedding cache is filled before the first run with random unit vectors for
every text the generators will make (same key: text hash, model, revision, scheme), so the first run embeds
nothing and every other stage runs at full size on vectors of the real shape. The report says so, and its
first-run estimate adds the embedding time extrapolated from the sample measured in the same run. The
incremental run still embeds its new texts with the real model.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import yaml

from orchestration.instance import prepare_home

ROOT = Path(__file__).resolve().parents[1]
STAGES = ["raw_tasks", "curated_tasks", "task_embeddings", "density_factors", "family_selection",
          "fused_training_set"]
TARGETS = {"first_s": 360.0, "rerun_s": 30.0, "peak_rss_mib": 4096.0}
NEW_FILE_FAMILY, NEW_FILE_TASKS, NEW_FILE_SEED = "decomposition", 100, 4242
BEFORE_14 = "d98b9c7"  # main before #14: the non-streaming stage functions


# -- the worker: one `planfusion up` without the server, reporting what the event log saw ----------------

def worker(out: Path) -> None:
    started = time.time()
    import dagster as dg

    from orchestration.up import materialize_everything

    with dg.DagsterInstance.get() as instance:
        ready = time.time()
        run_ids = materialize_everything(instance)
        done = time.time()
        runs = [run_report(instance, run_id) for run_id in run_ids]
    out.write_text(json.dumps({"started": started, "ready": ready, "done": done, "runs": runs}))


def run_report(instance, run_id: str) -> dict[str, Any]:
    """Step spans and each materialization's metadata, from the run's event log."""
    run = instance.get_run_by_id(run_id)
    steps: dict[str, dict[str, Any]] = {}
    first = last = None
    for entry in instance.all_logs(run_id):
        first = entry.timestamp if first is None else first
        last = entry.timestamp
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        step = steps.setdefault(event.step_key, {})
        if event.event_type_value == "STEP_START":
            step["start"] = entry.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
            step["end"], step["status"] = entry.timestamp, event.event_type_value
        elif event.event_type_value == "ASSET_MATERIALIZATION":
            metadata = event.event_specific_data.materialization.metadata
            step["metadata"] = {k: v.value for k, v in metadata.items() if isinstance(v.value, (int, float, str, bool))}
    return {"run_id": run_id, "partition": run.tags.get("dagster/partition"), "status": run.status.value,
            "start": first, "end": last, "steps": steps}


# -- the parent: a fresh process per run, its memory sampled from outside ----------------------------------

class Sampler(threading.Thread):
    """VmRSS of one process every ``interval`` seconds, as (time, MiB)."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.samples, self.stop = pid, interval, [], threading.Event()
        self.hwm = 0.0

    def read(self) -> dict[str, float]:
        status = Path(f"/proc/{self.pid}/status").read_text()
        return {line.split(":")[0]: int(line.split()[1]) / 1024 for line in status.splitlines()
                if line.startswith(("VmRSS", "VmHWM"))}

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                values = self.read()
            except (FileNotFoundError, ProcessLookupError, IndexError):
                break
            self.samples.append((time.time(), values.get("VmRSS", 0.0)))
            self.hwm = max(self.hwm, values.get("VmHWM", 0.0))
            time.sleep(self.interval)


def run_once(env: dict[str, str], label: str, scratch: Path) -> dict[str, Any]:
    out = scratch / f"{label}.json"
    log = scratch / f"{label}.log"
    start = time.time()
    with log.open("w") as handle:
        proc = subprocess.Popen([sys.executable, __file__, "--worker", str(out)], cwd=ROOT, env=env,
                                stdout=handle, stderr=subprocess.STDOUT)
        sampler = Sampler(proc.pid)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        sampler.stop.set()
        sampler.join()
    wall = time.time() - start
    if status != 0:
        raise SystemExit(f"{label}: the worker failed (status {status}), see {log}:\n{log.read_text()[-3000:]}")
    report = json.loads(out.read_text())
    return summarise(label, report, sampler.samples, wall, max(sampler.hwm, usage.ru_maxrss / 1024))


def summarise(label: str, report: dict[str, Any], samples: list[tuple[float, float]], wall: float,
              peak: float) -> dict[str, Any]:
    def peak_in(spans: list[tuple[float, float]]) -> float:
        return max((rss for t, rss in samples if any(a <= t <= b for a, b in spans)), default=0.0)

    stages: dict[str, dict[str, Any]] = {}
    step_seconds = 0.0
    for run in report["runs"]:
        for key, step in run["steps"].items():
            if "start" not in step or "end" not in step:
                continue
            meta = step.get("metadata", {})
            stage = stages.setdefault(key, {"seconds": 0.0, "spans": [], "rows": 0, "embedded": 0, "reused": 0})
            stage["seconds"] += step["end"] - step["start"]
            stage["spans"].append((step["start"], step["end"]))
            stage["rows"] += int(meta.get("dagster/partition_row_count", meta.get("dagster/row_count", 0)))
            stage["embedded"] += int(meta.get("embedded_now", 0))
            stage["reused"] += bool(meta.get("reused", False))
            step_seconds += step["end"] - step["start"]
    for stage in stages.values():
        stage["peak_rss_mib"] = peak_in(stage.pop("spans"))
    run_seconds = sum(run["end"] - run["start"] for run in report["runs"])
    return {"label": label, "wall_s": wall, "peak_rss_mib": peak, "stages": stages,
            "dagster_s": run_seconds - step_seconds, "process_s": report["ready"] - report["started"],
            "runs": [{"partition": r["partition"], "status": r["status"], "seconds": r["end"] - r["start"]}
                     for r in report["runs"]]}


# -- the baseline: the embedding path before #14 on a sample, extrapolated -----------------------------------

def embedding_baseline(env: dict[str, str], db: Path, sample: int, total: int, scratch: Path) -> dict[str, Any]:
    """The path before #14 and the pipeline's engine on the same sample of kept texts, in a fresh process;
    extrapolated to ``total`` texts."""
    out = scratch / "baseline.json"
    subprocess.run([sys.executable, __file__, "--baseline-worker", str(db), str(sample), str(total), str(out)],
                   cwd=ROOT, check=True, env=env)
    return json.loads(out.read_text())


def baseline_worker(db: str, sample: int, total: int, out: Path) -> None:
    import importlib.util

    import duckdb

    from planfusion.embedding import TaskEmbedder
    from planfusion.settings import load_settings

    spec = importlib.util.spec_from_file_location("bench_embedding", Path(__file__).with_name("embedding.py"))
    bench_embedding = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_embedding)

    with duckdb.connect(db, read_only=True) as con:
        texts = [r[0] for r in con.execute(
            """SELECT r.text FROM curated_tasks c JOIN raw_tasks r USING (family, task_id) WHERE c.kept
               ORDER BY hash(c.task_id) LIMIT ?""", [sample]).fetchall()]
    result: dict[str, Any] = {"sample": len(texts), "kept_total": total}
    reference, engine = TaskEmbedder(backend="torch", precision="fp32"), load_settings().embedding
    pipeline = TaskEmbedder(backend=engine.backend, precision=engine.precision, batch_size=engine.batch_size)
    paths = {"baseline": lambda t: bench_embedding.baseline_embed(reference, t), "pipeline": pipeline.embed}
    for name, embed in paths.items():
        embed(texts[:8])  # load the model outside the timing
        start = time.perf_counter()
        embed(texts)
        seconds = time.perf_counter() - start
        result[name] = {"engine": "sentence-transformers torch fp32" if name == "baseline" else
                        f"{pipeline.backend} {pipeline.precision}", "seconds": seconds,
                        "texts_per_s": len(texts) / seconds, "extrapolated_s": seconds * total / max(len(texts), 1)}
    out.write_text(json.dumps(result))


# -- the prefill: random vectors in place of the model, for sizes the model cannot embed in the time ------

def prefill_worker(db: str, n: int, out: Path) -> None:
    """Random unit vectors under the embedding cache key of every text raw_tasks will make with these
    settings (the pipeline's own raw_batches, so the texts are the same)."""
    import numpy as np

    from planfusion import warehouse
    from planfusion.embedding import DIMENSION, TaskEmbedder
    from planfusion.settings import load_settings
    from planfusion.stages.embeddings import text_hash
    from planfusion.stages.raw import RawTasks, raw_batches
    from planfusion.tasks import FAMILIES

    embedder, generation = TaskEmbedder(), load_settings().generation
    rng, count, start = np.random.default_rng(0), 0, time.perf_counter()
    with warehouse.connect(db) as con:
        for family in FAMILIES:
            for batch in raw_batches(family, RawTasks(), n=n, seed=generation.seed, params=generation.params,
                                     inbox="/nonexistent", negatives_every=generation.negatives_every, batch_size=5000):
                vectors = rng.standard_normal((len(batch), DIMENSION)).astype(np.float32)
                vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
                warehouse.add_cached_embeddings(con, [
                    {"text_hash": text_hash(row["text"]), "model_name": embedder.name, "model_revision": embedder.revision,
                     "embedding_scheme": embedder.scheme, "embedding": v, "run_id": "bench-prefill"}
                    for row, v in zip(batch, vectors)])
                count += len(batch)
    out.write_text(json.dumps({"texts": count, "seconds": time.perf_counter() - start}))


def prefill(env: dict[str, str], db: Path, n: int, scratch: Path) -> dict[str, Any]:
    out = scratch / "prefill.json"
    subprocess.run([sys.executable, __file__, "--prefill-worker", str(db), str(n), str(out)], cwd=ROOT, env=env,
                   check=True)
    return json.loads(out.read_text())


# -- the old, non-streaming raw and curation stages: their peak RSS on one family ---------------------------

def old_memory(n: int, scratch: Path) -> dict[str, Any]:
    """Peak RSS of the raw and curation stage functions of main before #14 (every record held at once) on
    one family of n tasks, from a copy of that commit, each in a fresh process."""
    base = subprocess.run(["git", "rev-parse", BEFORE_14], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()
    tree = scratch / "old"
    tree.mkdir()
    archive = subprocess.run(["git", "archive", base, "planfusion"], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    result: dict[str, Any] = {"commit": base[:12], "family": NEW_FILE_FAMILY, "n": n}
    for step in ("raw", "curated"):
        code = OLD_STEPS[step].format(family=NEW_FILE_FAMILY, n=n)
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", code], cwd=tree, env=os.environ | {"PYTHONPATH": str(tree)})
        _, status, usage = os.wait4(proc.pid, 0)
        if status != 0:
            raise SystemExit(f"the old {step} stage failed (status {status})")
        result[step] = {"peak_rss_mib": usage.ru_maxrss / 1024, "seconds": time.perf_counter() - start}
    return result


# What the old assets did before writing: raw built every row; curation read them all and decided.
OLD_STEPS = {
    "raw": "from planfusion.stages.raw import raw_tasks; from planfusion import warehouse; "
           "rows = raw_tasks({family!r}, n={n}, seed=0, params=None, inbox='/nonexistent', negatives_every=10).rows; "
           "warehouse._arrow(warehouse.TABLES['raw_tasks'], rows)",
    "curated": "from planfusion.stages.raw import raw_tasks; from planfusion.stages.curation import curated_rows; "
               "import json; rows = raw_tasks({family!r}, n={n}, seed=0, params=None, inbox='/nonexistent', "
               "negatives_every=10).rows; raw = [dict(r, record=json.loads(json.dumps(r['record']))) for r in rows]; "
               "curated_rows(raw)",
}


# -- the table ----------------------------------------------------------------------------------------------

def table(runs: list[dict[str, Any]]) -> str:
    head = "| stage | " + " | ".join(f"{r['label']} wall s | peak RSS MiB | rows | embedded" for r in runs) + " |"
    lines = [head, "|---|" + "---:|---:|---:|---:|" * len(runs)]
    for stage in STAGES:
        cells = []
        for r in runs:
            s = r["stages"].get(stage)
            reused = f" ({s['reused']} reused)" if s and s["reused"] else ""
            cells.append("- | - | - | -" if s is None else
                         f"{s['seconds']:.1f}{reused} | {s['peak_rss_mib']:.0f} | {s['rows']} | {s['embedded']}")
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    lines.append("| dagster (runs minus steps) | " + " | ".join(f"{r['dagster_s']:.1f} | | |" for r in runs) + " |")
    lines.append("| process start (imports, instance) | " + " | ".join(f"{r['process_s']:.1f} | | |" for r in runs) + " |")
    lines.append("| **total** | " + " | ".join(
        f"**{r['wall_s']:.1f}** | **{r['peak_rss_mib']:.0f}** | | "
        f"**{sum(s['embedded'] for s in r['stages'].values())}**" for r in runs) + " |")
    return "\n".join(lines)


def verdicts(first: dict, rerun: dict, incremental: dict, new_kept: int,
             first_estimate: float | None) -> list[tuple[str, str, str, bool]]:
    peak = max(r["peak_rss_mib"] for r in (first, rerun, incremental))
    rerun_embedded = sum(s["embedded"] for s in rerun["stages"].values())
    inc_embedded = sum(s["embedded"] for s in incremental["stages"].values())
    first_s = first["wall_s"] if first_estimate is None else first_estimate
    how = "" if first_estimate is None else " (estimated: prefilled run + extrapolated embedding)"
    return [
        ("first run", f"<= {TARGETS['first_s']:.0f} s", f"{first_s:.0f} s{how}", first_s <= TARGETS["first_s"]),
        ("no-change rerun", f"<= {TARGETS['rerun_s']:.0f} s", f"{rerun['wall_s']:.1f} s", rerun["wall_s"] <= TARGETS["rerun_s"]),
        ("no-change rerun embeds", "0 texts", str(rerun_embedded), rerun_embedded == 0),
        ("incremental run embeds", f"the new file's kept tasks ({new_kept})", str(inc_embedded), inc_embedded == new_kept),
        ("peak RSS", f"< {TARGETS['peak_rss_mib']:.0f} MiB", f"{peak:.0f} MiB", peak < TARGETS["peak_rss_mib"]),
    ]


def drop_new_file(inbox: Path) -> None:
    from planfusion.tasks import get_family
    from planfusion.tasks.record import canonical_json

    folder = inbox / NEW_FILE_FAMILY
    folder.mkdir(parents=True, exist_ok=True)
    records = get_family(NEW_FILE_FAMILY).generate(NEW_FILE_TASKS, NEW_FILE_SEED)
    (folder / "new.jsonl").write_text("".join(canonical_json(r) + "\n" for r in records))


def kept_count(db: Path) -> int:
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT count(*) FROM curated_tasks WHERE kept").fetchone()[0]


def new_kept(db: Path) -> int:
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("""SELECT count(*) FROM curated_tasks c JOIN raw_tasks r USING (family, task_id)
                              WHERE c.kept AND r.file_path LIKE '%new.jsonl'""").fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="tasks generated per family")
    parser.add_argument("--quick", action="store_true", help="a smoke size: --n 200, baseline sample 50")
    parser.add_argument("--baseline-sample", type=int, default=1000, help="kept texts the baseline embeds")
    parser.add_argument("--out", type=Path, help="also write the report here (.md; a .json beside it)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--old-memory", action="store_true",
                        help="also measure the peak RSS of the non-streaming raw and curation before #14 on one family")
    parser.add_argument("--prefill-cache", action="store_true",
                        help="random vectors in the embedding cache before the first run (see the module doc)")
    args = parser.parse_args()
    n, sample = (200, 50) if args.quick else (args.n, args.baseline_sample)
    scratch = Path(tempfile.mkdtemp(prefix="planfusion-bench-"))
    home, db, inbox = scratch / "dagster_home", scratch / "warehouse" / "planfusion.duckdb", scratch / "inbox"
    prepare_home(home, source=ROOT / "dagster.yaml")  # as `planfusion up` makes it
    config = scratch / "planfusion.yaml"
    config.write_text(yaml.safe_dump({"generation": {"n": n}}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLANFUSION_")} | {
        "DAGSTER_HOME": str(home), "PLANFUSION_DB": str(db), "PLANFUSION_INBOX": str(inbox),
        "PLANFUSION_EXPORTS": str(scratch / "exports"), "PLANFUSION_CONFIG": str(config),
        "PYTHONPATH": str(ROOT)}
    print(f"bench/pipeline.py: n={n} per family, scratch {scratch}", flush=True)
    try:
        filled = prefill(env, db, n, scratch) if args.prefill_cache else None
        if filled:
            print(f"prefilled the embedding cache: {filled['texts']} random vectors in {filled['seconds']:.0f}s", flush=True)
        first = run_once(env, "first", scratch)
        print(f"first run: {first['wall_s']:.1f}s\n{table([first])}", flush=True)
        kept_first = kept_count(db)
        rerun = run_once(env, "rerun", scratch)
        print(f"no-change rerun: {rerun['wall_s']:.1f}s\n{table([rerun])}", flush=True)
        drop_new_file(inbox)
        incremental = run_once(env, "incremental", scratch)
        print(f"incremental run: {incremental['wall_s']:.1f}s\n{table([incremental])}", flush=True)
        baseline = embedding_baseline(env, db, sample, kept_first, scratch)
        kept_new = new_kept(db)
        old = old_memory(n, scratch) if args.old_memory else None
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    report = render(n, first, rerun, incremental, baseline, kept_new, filled, old)
    print(report)
    if args.out:
        args.out.write_text(report + "\n")
        args.out.with_suffix(".json").write_text(json.dumps({"n": n, "runs": [first, rerun, incremental],
                                                             "baseline": baseline, "new_kept": kept_new,
                                                             "prefilled": filled, "old_memory": old}, indent=1))


def render(n: int, first: dict, rerun: dict, incremental: dict, baseline: dict, kept_new: int,
           filled: dict | None, old: dict | None) -> str:
    before, auto = baseline["baseline"], baseline["pipeline"]
    embed_s = first["stages"].get("task_embeddings", {}).get("seconds", 0.0)
    baseline_total = first["wall_s"] - embed_s + before["extrapolated_s"]
    estimate = None if filled is None else first["wall_s"] + auto["extrapolated_s"]
    lines = [f"## bench/pipeline.py: {n} tasks per family ({3 * n} generated), "
             f"{baseline['kept_total']} kept after the first run", ""]
    if filled is not None:
        lines += [f"**Embedding cache prefilled** with {filled['texts']} random unit vectors before the first run "
                  f"({filled['seconds']:.0f} s, not counted): the first run embeds nothing, every other stage runs at "
                  f"full size. With the model, the first run would take about **{estimate:.0f} s** (this run "
                  f"{first['wall_s']:.0f} s + {baseline['kept_total']} kept texts at the {auto['engine']} rate "
                  f"measured below: {auto['extrapolated_s']:.0f} s, extrapolated).", ""]
    lines += [table([first, rerun, incremental]), "",
             f"Baseline measured in this run (embedding, the bottleneck): the path before #14 "
             f"({before['engine']}) embeds a sample of {baseline['sample']} kept texts at "
             f"{before['texts_per_s']:.1f} texts/s; **extrapolated** to {baseline['kept_total']} kept texts: "
             f"{before['extrapolated_s']:.0f} s, so a first run on that path would take about {baseline_total:.0f} s "
             f"(this run's other stages + the extrapolated embedding). The engine this run used "
             f"({auto['engine']}) on the same sample: {auto['texts_per_s']:.1f} texts/s "
             f"({before['seconds'] / auto['seconds']:.2f}x the baseline).", "",
             "| target | wanted | measured | |", "|---|---|---|---|"]
    lines += [f"| {name} | {want} | {got} | {'pass' if ok else 'MISS'} |"
              for name, want, got, ok in verdicts(first, rerun, incremental, kept_new, estimate)]
    if old is not None:
        stage = lambda name: first["stages"].get(name, {}).get("peak_rss_mib", 0.0)
        lines += ["", f"Memory baseline measured in this run: the non-streaming stage functions before #14 (commit "
                      f"{old['commit']}) on {old['family']}, {old['n']} tasks, each in a fresh process: raw "
                      f"{old['raw']['peak_rss_mib']:.0f} MiB, curation {old['curated']['peak_rss_mib']:.0f} MiB "
                      f"peak RSS (one family; the run above peaked at {stage('raw_tasks'):.0f} and "
                      f"{stage('curated_tasks'):.0f} MiB in those stages over three families, Dagster included)."]
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker(Path(sys.argv[2]))
    elif sys.argv[1:2] == ["--baseline-worker"]:
        baseline_worker(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), Path(sys.argv[5]))
    elif sys.argv[1:2] == ["--prefill-worker"]:
        prefill_worker(sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]))
    else:
        main()
