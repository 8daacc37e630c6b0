"""NovelSelect benchmark: planfusion against the naive exact method, its size targets, and density.

    .venv/bin/python bench/novelselect.py [--quick] [--full] [--repeats R] [--json FILE]
                                          [--seed S] [--max-seconds S] [--max-memory-gib G]

Rows (data: planfusion.novelsum.synthetic.clustered_embeddings(N, 384, random_state=--seed)):
  1. naive-5k / planfusion-5k   N=5,000 B=300: the naive exact method (bench/naive_novelselect.py,
     recompute every score each step) against planfusion, both variants; planfusion's picks must
     equal the naive picks ("same picks").
  2. planfusion-20k             N=20,000 B=1,000, both variants. Target <= 3 s.
  3. planfusion-100k            N=100,000 B=5,000, magicagent (--full adds released).
                                Targets <= 40 s (issue #14; 120 s before) and peak RSS < 8 GiB.
  4. density-faiss / density-pf N=100,000 K=10: a raw faiss.IndexFlatIP search of K+1 neighbours
     against planfusion's embedding_density on the same unit vectors; should be about 1.0.

Every case runs in a fresh subprocess (this script with --case), so "peak RSS" is that process's
own high-water mark (resource.getrusage(RUSAGE_SELF).ru_maxrss): interpreter, numpy/faiss, the
loaded data and the work; the data and density factors are made once per N by another subprocess
and loaded from a temporary directory. Selection seconds exclude density (density= is passed);
density is timed in row 4. "seconds" is the median of the repeats (default 3; 1 for N=100,000).
Both methods get the same first pick (drawn from --seed), so their orders are comparable.

ratio: naive seconds / planfusion seconds (row 1); target seconds / median seconds (rows 2-3,
>= 1 meets the target); planfusion seconds / faiss seconds (row 4).

A selection run longer than --max-seconds (default 600) is stopped at its next pick and reported as
">LIMIT (picks done/B)": the table finishes in bounded time even when a target is missed badly.
Each case process also runs under an address-space cap (RLIMIT_AS, --max-memory-gib, default 12):
an allocation past it raises MemoryError, reported as "stopped: memory cap at pick p/B" with the
memory check failed, instead of pushing a shared machine into swap or the OOM killer.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DIM = 384
K = 10
GIB = 1024**3
TARGET_SECONDS = {20_000: 3.0, 100_000: 40.0}  # 100k: issue #14 (was 120 s)
TARGET_RSS_MIB = 8 * 1024  # for N = 100,000
DENSITY_OK = 1.25  # planfusion / faiss at most this counts as "about 1.0"
PROGRESS_EVERY = 10.0  # seconds between progress lines inside a run


def log(message: str) -> None:
    print(f"[novelselect {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Child side: one case in a fresh process.
# ---------------------------------------------------------------------------------------------


class Stopped(Exception):
    """Raised from the progress callback when a run passes --max-seconds."""

    def __init__(self, done: int, seconds: float):
        super().__init__(done, seconds)
        self.done, self.seconds = done, seconds


def cap_memory(gib: float | None) -> None:
    """Cap this process's address space, so a runaway allocation fails here, not on the machine."""
    if gib:
        limit = int(gib * GIB)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def make_progress(label: str, start: float, max_seconds: float | None):
    last = [start]

    def progress(done: int, total: int, _elapsed: float) -> None:
        progress.done = done
        now = time.perf_counter()
        if max_seconds is not None and now - start > max_seconds:
            raise Stopped(done, now - start)
        if now - last[0] >= PROGRESS_EVERY:
            last[0] = now
            log(f"  {label}: pick {done:,}/{total:,}, {now - start:.0f} s")

    progress.done = 1
    return progress


def load_case_data(spec: dict):
    import numpy as np

    from planfusion.novelsum.density import Density

    data_dir = Path(spec["data_dir"])
    x = np.load(data_dir / f"x_{spec['n']}.npy")
    if spec["kind"] in ("density_pf", "density_faiss"):
        return x, None
    with np.load(data_dir / f"density_{spec['n']}.npz") as f:
        density = Density(sigma=f["sigma"], neighbours=f["neighbours"], distances=f["distances"], k=int(f["k"]))
    return x, density


def run_prepare(spec: dict) -> dict:
    """Make the data and its density factors once per N, for the cases to load."""
    import numpy as np

    from planfusion.novelsum import embedding_density
    from planfusion.novelsum.synthetic import clustered_embeddings

    n, data_dir = spec["n"], Path(spec["data_dir"])
    start = time.perf_counter()
    x = clustered_embeddings(n, DIM, random_state=spec["seed"])
    generated = time.perf_counter()
    density = embedding_density(x, K)
    done = time.perf_counter()
    np.save(data_dir / f"x_{n}.npy", x)
    np.savez(data_dir / f"density_{n}.npz", sigma=density.sigma, neighbours=density.neighbours,
             distances=density.distances, k=density.k)
    return {"generate_seconds": generated - start, "density_seconds": done - generated}


def run_case(spec: dict) -> dict:
    import numpy as np

    kind, n, b, repeats = spec["kind"], spec["n"], spec["b"], spec["repeats"]
    x, density = load_case_data(spec)
    loaded_rss = peak_rss_mib()
    times: list[float] = []
    picks = None
    stopped = None
    label = f"{kind} N={n:,}" + (f" B={b:,} {spec['variant']}" if b else f" K={K}")
    for r in range(repeats):
        start = time.perf_counter()
        progress = make_progress(label, start, spec["max_seconds"] if kind == "select" else None)
        try:
            if kind == "select":
                from planfusion.novelsum import novel_select

                sel = novel_select(x, b, variant=spec["variant"], first=spec["first"], density=density,
                                   progress=progress)
                order = sel.order
            elif kind == "naive":
                from naive_novelselect import naive_novel_select

                order = naive_novel_select(x, b, density.sigma, first=spec["first"], variant=spec["variant"],
                                           progress=progress)
            elif kind == "density_pf":
                from planfusion.novelsum import embedding_density

                order = None
                embedding_density(x, K)
            elif kind == "density_faiss":
                import faiss

                order = None
                index = faiss.IndexFlatIP(x.shape[1])
                index.add(x)
                index.search(x, K + 1)
            else:
                raise ValueError(f"unknown case kind {kind!r}")
        except Stopped as s:
            stopped = {"reason": "time", "picks": s.done, "budget": b, "seconds": s.seconds}
            log(f"  {label}: stopped after {s.seconds:.0f} s at pick {s.done:,}/{b:,} (--max-seconds)")
            break
        except MemoryError as e:
            seconds = time.perf_counter() - start
            stopped = {"reason": "memory", "picks": progress.done, "budget": b, "seconds": seconds,
                       "error": str(e)[:200]}
            log(f"  {label}: stopped after {seconds:.0f} s at pick {progress.done:,}/{b:,}: "
                f"MemoryError under the {spec['max_memory_gib']:g} GiB cap ({str(e)[:120]})")
            break
        times.append(time.perf_counter() - start)
        log(f"  {label}: repeat {r + 1}/{repeats}: {times[-1]:.2f} s")
        if order is not None:
            if picks is not None and not np.array_equal(picks, order):
                raise RuntimeError(f"{label}: repeat {r + 1} picked a different order (not deterministic)")
            picks = np.asarray(order)
    return {
        "times": times,
        "stopped": stopped,
        "peak_rss_mib": peak_rss_mib(),
        "rss_after_load_mib": loaded_rss,
        "picks": None if picks is None else picks.tolist(),
    }


def child_main(spec: dict) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))  # for naive_novelselect
    cap_memory(spec.get("max_memory_gib"))
    result = run_prepare(spec) if spec["kind"] == "prepare" else run_case(spec)
    print("RESULT " + json.dumps(result), flush=True)


# ---------------------------------------------------------------------------------------------
# Parent side: plan, run each case in its own process, tabulate.
# ---------------------------------------------------------------------------------------------


def run_child(spec: dict) -> dict:
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--case", json.dumps(spec)],
        stdout=subprocess.PIPE, text=True, check=False,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        return {"error": f"exit status {proc.returncode}"}
    return json.loads(lines[-1][len("RESULT "):])


def plan(args: argparse.Namespace) -> list[dict]:
    small = args.repeats or (1 if args.quick else 3)
    large = args.repeats or 1
    cases = []
    for variant in ("magicagent", "released"):
        cases.append({"case": "naive-5k", "kind": "naive", "n": 5_000, "b": 300, "variant": variant, "repeats": small})
        cases.append({"case": "planfusion-5k", "kind": "select", "n": 5_000, "b": 300, "variant": variant,
                      "repeats": small})
    for variant in ("magicagent", "released"):
        cases.append({"case": "planfusion-20k", "kind": "select", "n": 20_000, "b": 1_000, "variant": variant,
                      "repeats": small})
    if not args.quick:
        for variant in ("magicagent", "released") if args.full else ("magicagent",):
            cases.append({"case": "planfusion-100k", "kind": "select", "n": 100_000, "b": 5_000,
                          "variant": variant, "repeats": large})
        cases.append({"case": "density-faiss", "kind": "density_faiss", "n": 100_000, "b": 0, "variant": f"K={K}",
                      "repeats": large})
        cases.append({"case": "density-pf", "kind": "density_pf", "n": 100_000, "b": 0, "variant": f"K={K}",
                      "repeats": large})
    return cases


def fmt_seconds(row: dict) -> str:
    if row.get("error"):
        return "failed"
    if row["stopped"]:
        s = row["stopped"]
        why = "" if s["reason"] == "time" else ", memory cap"
        return f">{s['seconds']:.0f} ({s['picks']:,}/{s['budget']:,} picks{why})"
    return f"{row['seconds']:.2f}"


def finish_rows(cases: list[dict], results: list[dict]) -> tuple[list[dict], dict]:
    rows = []
    for case, res in zip(cases, results):
        row = {k: case[k] for k in ("case", "n", "b", "variant", "repeats")}
        row["d"] = DIM
        row.update(res)
        if not res.get("error"):
            row["seconds"] = statistics.median(res["times"]) if res["times"] and not res["stopped"] else None
        rows.append(row)
    by = {(r["case"], r["variant"]): r for r in rows}
    same_picks = {}
    for row in rows:
        row["ratio"], row["ratio_of"], row["check"] = None, "", ""
        if row.get("error"):
            row["check"] = f"FAILED ({row['error']})"
            continue
        if row["case"] == "naive-5k":
            row["ratio_of"], row["check"] = "baseline", "-"
        elif row["case"] == "planfusion-5k":
            naive = by.get(("naive-5k", row["variant"]))
            if naive and not naive.get("error") and row["seconds"]:
                row["ratio"] = naive["seconds"] / row["seconds"]
            row["ratio_of"] = "naive/planfusion"
            same = bool(naive and not naive.get("error") and row["picks"] and naive["picks"] == row["picks"])
            same_picks[row["variant"]] = same
            row["check"] = f"same picks: {'yes' if same else 'no'}"
        elif row["case"] in ("planfusion-20k", "planfusion-100k"):
            target = TARGET_SECONDS[row["n"]]
            seconds = row["seconds"] if row["seconds"] is not None else row["stopped"]["seconds"]
            # a time stop bounds the ratio from above; a memory stop says nothing about time
            row["ratio"] = None if row["stopped"] and row["stopped"]["reason"] == "memory" else target / seconds
            row["ratio_of"] = f"target/actual ({target:g} s)"
            checks = [f"<= {target:g} s: {'ok' if row['seconds'] is not None and row['seconds'] <= target else 'MISS'}"]
            if row["n"] == 100_000:
                capped = bool(row["stopped"]) and row["stopped"]["reason"] == "memory"
                mem_ok = row["peak_rss_mib"] < TARGET_RSS_MIB and not capped
                note = " (hit the memory cap)" if capped else " (at stop)" if row["stopped"] else ""
                checks.append(f"< 8 GiB: {'ok' if mem_ok else 'MISS'}{note}")
            row["check"] = ", ".join(checks)
        elif row["case"] == "density-faiss":
            row["ratio_of"], row["check"] = "reference", "-"
        elif row["case"] == "density-pf":
            faiss_row = by.get(("density-faiss", row["variant"]))
            if faiss_row and not faiss_row.get("error") and row["seconds"]:
                row["ratio"] = row["seconds"] / faiss_row["seconds"]
                row["check"] = f"~1.0: {'ok' if row['ratio'] <= DENSITY_OK else 'MISS'}"
            row["ratio_of"] = "planfusion/faiss"
    return rows, same_picks


def render(rows: list[dict], same_picks: dict, meta: dict) -> str:
    header = ["case", "N", "B", "D", "variant", "seconds", "peak RSS MiB", "ratio", "ratio of", "check"]
    right = {"N", "B", "D", "seconds", "peak RSS MiB", "ratio"}
    body = []
    for r in rows:
        body.append([
            r["case"], f"{r['n']:,}", f"{r['b']:,}" if r["b"] else "-", str(r["d"]), r["variant"], fmt_seconds(r),
            "-" if r.get("error") else f"{r['peak_rss_mib']:,.0f}",
            "-" if r["ratio"] is None else ("<" if r.get("stopped") else "") + f"{r['ratio']:.2f}",
            r["ratio_of"], r["check"],
        ])
    widths = [max(len(h), *(len(line[i]) for line in body)) for i, h in enumerate(header)]

    def line(cells):
        return "  ".join(c.rjust(w) if h in right else c.ljust(w) for c, w, h in zip(cells, widths, header)).rstrip()

    out = [line(header), line(["-" * w for w in widths])] + [line(b) for b in body]
    out.append("")
    for variant, same in same_picks.items():
        out.append(f"same picks ({variant}, N=5,000 B=300, planfusion vs naive): {'yes' if same else 'no'}")
    for n, prep in sorted(meta["prepare"].items(), key=lambda kv: int(kv[0])):
        if "density_seconds" in prep:
            out.append(f"density for N={int(n):,} (K={K}, once, not in selection seconds): "
                       f"{prep['density_seconds']:.2f} s")
    out.append(f"seconds: median of the repeats (runs: {', '.join(sorted({str(r['repeats']) for r in rows}))}); "
               f"seed {meta['seed']}; max {meta['max_seconds']:g} s per selection run, "
               f"{meta['max_memory_gib']:g} GiB address space per case process")
    out.append(f"host: {meta['cpus']} CPUs, load average {meta['load_start']} at start, {meta['load_end']} at end; "
               f"python {meta['python']}, numpy {meta['numpy']}, faiss {meta['faiss']}")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="rows 1 and 2 only, 1 repeat")
    parser.add_argument("--full", action="store_true", help="also the released variant at N=100,000")
    parser.add_argument("--repeats", type=int, default=None,
                        help="runs per case (default: 3 for small cases, 1 for N=100,000; 1 with --quick)")
    parser.add_argument("--seed", type=int, default=0, help="data and first-pick seed")
    parser.add_argument("--max-seconds", type=float, default=600.0, help="stop a selection run after this long")
    parser.add_argument("--max-memory-gib", type=float, default=12.0,
                        help="address-space cap (RLIMIT_AS) per case process; 0 for none")
    parser.add_argument("--json", metavar="FILE", default=None, help="also write the table and raw results as JSON")
    parser.add_argument("--case", default=None, help=argparse.SUPPRESS)  # internal: run one case (JSON spec)
    args = parser.parse_args()
    if args.case is not None:
        child_main(json.loads(args.case))
        return
    if args.repeats is not None and args.repeats < 1:
        parser.error("--repeats must be >= 1")

    import faiss
    import numpy as np

    cases = plan(args)
    meta = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]), "seed": args.seed,
        "max_seconds": args.max_seconds, "max_memory_gib": args.max_memory_gib,
        "cpus": os.cpu_count(), "python": platform.python_version(),
        "numpy": np.__version__, "faiss": faiss.__version__,
        "load_start": " ".join(f"{v:.2f}" for v in os.getloadavg()), "prepare": {},
    }
    data_dir = tempfile.mkdtemp(prefix="planfusion-bench-")
    results = []
    try:
        for i, case in enumerate(cases, start=1):
            n = case["n"]
            if str(n) not in meta["prepare"]:
                log(f"preparing N={n:,}: clustered_embeddings(seed {args.seed}) and density K={K}")
                prep = run_child({"kind": "prepare", "n": n, "seed": args.seed, "data_dir": data_dir,
                                  "max_memory_gib": args.max_memory_gib})
                if prep.get("error"):
                    raise SystemExit(f"preparing N={n} failed: {prep['error']}")
                meta["prepare"][str(n)] = prep
                log(f"prepared N={n:,}: density {prep['density_seconds']:.2f} s")
            spec = dict(case, data_dir=data_dir, seed=args.seed, max_seconds=args.max_seconds,
                        max_memory_gib=args.max_memory_gib,
                        first=int(np.random.default_rng(args.seed).integers(n)))
            log(f"[{i}/{len(cases)}] {case['case']} N={n:,} B={case['b']:,} {case['variant']}, "
                f"{case['repeats']} repeat(s)")
            res = run_child(spec)
            results.append(res)
            if res.get("error"):
                log(f"[{i}/{len(cases)}] FAILED: {res['error']}")
            else:
                log(f"[{i}/{len(cases)}] done: times {[round(t, 2) for t in res['times']]}, "
                    f"peak RSS {res['peak_rss_mib']:,.0f} MiB")
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    meta["load_end"] = " ".join(f"{v:.2f}" for v in os.getloadavg())
    rows, same_picks = finish_rows(cases, results)
    table = render(rows, same_picks, meta)
    print(table)
    if args.json:
        for row in rows:
            row.pop("picks", None)
        Path(args.json).write_text(json.dumps(
            {"meta": meta, "rows": rows, "same_picks": same_picks, "table": table}, indent=2) + "\n")
        log(f"wrote {args.json}")


if __name__ == "__main__":
    main()
