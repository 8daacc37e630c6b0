"""job_shop: operations on shared resources, minimum makespan (release times, deadlines, capacities).

Planting: sample jobs, take the shortest of a few random serial schedules as the planted one, then add
constraints it satisfies: cross-job precedences it already respects and deadlines at or just after its
job completions. ``solvers.min_makespan`` must find nothing shorter, else the sample is rejected.
With ``above_bound`` the sample is also rejected when its optimum equals ``solvers.lower_bound`` (the
bound the reasoning states): left alone, about three quarters of the samples sit at that bound, where
the reasoning ends with "equal to the lower bound" and never has to weigh resource conflicts.

Steps for the too-easy filter: the operations.
"""

from __future__ import annotations

import random
from typing import Any

from planfusion.tasks.scheduling import solvers
from planfusion.tasks.scheduling.instance import Instance
from planfusion.tasks.scheduling.vocab import MACHINES, PRODUCTS

SUBTYPE = "job_shop"
JOBS = {1: (2, 2), 2: (2, 3), 3: (3, 3), 4: (3, 4), 5: (4, 4)}
OPS_PER_JOB = {1: (1, 2), 2: (1, 2), 3: (1, 2), 4: (1, 2), 5: (1, 2)}
N_MACHINES = {1: (2, 2), 2: (2, 3), 3: (2, 3), 4: (3, 3), 5: (3, 4)}
MAX_DURATION = {1: 4, 2: 5, 3: 5, 4: 6, 5: 6}
DOUBLE_P = {1: 0.0, 2: 0.2, 3: 0.3, 4: 0.3, 5: 0.4}
CROSS = {1: 0, 2: 1, 3: 1, 4: 2, 5: 2}
DEADLINE_P = {1: 0.3, 2: 0.4, 3: 0.5, 4: 0.5, 5: 0.6}
PLANTS = 4
Schedule = dict[str, tuple[int, int]]


def build(rng: random.Random, level: int, minimal: bool = False, above_bound: bool = False) -> Instance | None:
    n_jobs = 1 if minimal else rng.randint(*JOBS[level])
    machines = rng.sample(MACHINES, rng.randint(*N_MACHINES[level]))
    capacity = {m: 2 if rng.random() < DOUBLE_P[level] else 1 for m in machines}
    jobs: list[dict[str, Any]] = []
    for j, product in enumerate(rng.sample(PRODUCTS, n_jobs)):
        name = "ABCDEFGH"[j]
        n_ops = 1 if minimal else rng.randint(*OPS_PER_JOB[level])
        route = rng.sample(machines, min(n_ops, len(machines))) + rng.choices(machines, k=max(0, n_ops - len(machines)))
        jobs.append({"name": name, "product": product, "release": rng.choice((0, 0, 0, 1, 2, 3)), "deadline": None,
                     "ops": [{"id": f"{name}{k + 1}", "machine": m, "duration": rng.randint(1, MAX_DURATION[level])}
                             for k, m in enumerate(route)]})
    # cross-job precedences come later and can only raise the bound: a plant at it already fixes the optimum
    floor = solvers.lower_bound({"machines": capacity, "jobs": jobs, "precedences": []}) if above_bound else None
    plant = _plant(rng, jobs, capacity, floor)
    if plant is None:
        return None
    makespan = _makespan(plant)
    precedences: list[list[str]] = []
    candidates = [[a["id"], b["id"]] for ja in jobs for jb in jobs if ja is not jb
                  for a in ja["ops"] for b in jb["ops"] if plant[a["id"]][1] <= plant[b["id"]][0]]
    for pair in rng.sample(candidates, min(len(candidates), rng.randint(0, CROSS[level]))):
        precedences.append(pair)
    for job in jobs:
        if rng.random() < DEADLINE_P[level]:
            job["deadline"] = plant[job["ops"][-1]["id"]][1] + rng.choice((0, 0, 1, 2))
    constraints = {"machines": capacity, "jobs": jobs, "precedences": precedences}
    bound = solvers.lower_bound(constraints)
    if (above_bound and makespan == bound) or solvers.min_makespan(constraints, makespan + 1) != makespan:
        return None
    solution = sorted(({"op": op["id"], "machine": op["machine"], "start": plant[op["id"]][0],
                        "end": plant[op["id"]][1]} for job in jobs for op in job["ops"]),
                      key=lambda s: (s["start"], s["op"]))
    n_ops = len(solution)
    knobs = {"jobs": n_jobs, "operations": n_ops, "machines": len(machines),
             "shared_capacity": sum(c > 1 for c in capacity.values()), "precedences": len(precedences),
             "deadlines": sum(job["deadline"] is not None for job in jobs), "bound_gap": makespan - bound}
    return Instance(SUBTYPE, _instruction(constraints), constraints, solution, render_answer(solution),
                    _think(constraints, solution), knobs, n_ops, extra_truth={"optimum": makespan})


def render_answer(solution: list[dict[str, Any]]) -> str:
    lines = ["SOLUTION:"]
    lines += [f"{s['op']} on {s['machine']} from t={s['start']} to t={s['end']}" for s in solution]
    lines.append(f"Makespan: {max((s['end'] for s in solution), default=0)}")
    return "\n".join(lines)


def render_conclusion(solution: list[dict[str, Any]], makespan: int | None = None) -> str:
    span = max((s["end"] for s in solution), default=0) if makespan is None else makespan
    return f"Conclusion: makespan {span}; " + ", ".join(f"{s['op']} {s['start']}-{s['end']}" for s in solution) + "."


def _makespan(schedule: Schedule) -> int:
    return max(end for _, end in schedule.values())


def _plant(rng: random.Random, jobs: list[dict[str, Any]], capacity: dict[str, int], stop_at: int | None) -> Schedule | None:
    """The shortest of ``PLANTS`` random serial schedules, or None as soon as one ends at ``stop_at``
    (a lower bound: the optimum is at it then), which rejects a sample before any solver runs."""
    best: Schedule | None = None
    for _ in range(PLANTS):
        schedule = _random_schedule(rng, jobs, capacity)
        if _makespan(schedule) == stop_at:
            return None
        if best is None or _makespan(schedule) < _makespan(best):
            best = schedule
    return best


def _random_schedule(rng: random.Random, jobs: list[dict[str, Any]], capacity: dict[str, int]) -> Schedule:
    """Serial schedule generation with a random priority: each op at its earliest feasible start."""
    placed: Schedule = {}
    busy: dict[str, list[tuple[int, int]]] = {m: [] for m in capacity}
    nxt = {job["name"]: 0 for job in jobs}
    while len(placed) < sum(len(job["ops"]) for job in jobs):
        job = rng.choice([job for job in jobs if nxt[job["name"]] < len(job["ops"])])
        k = nxt[job["name"]]
        op = job["ops"][k]
        t = job["release"] if k == 0 else placed[job["ops"][k - 1]["id"]][1]
        slots = busy[op["machine"]]
        t = min(u for u in {t, *(e for _, e in slots if e > t)}
                if all(sum(1 for s, e in slots if s <= x < e) < capacity[op["machine"]]
                       for x in (u, *(s for s, _ in slots if u < s < u + op["duration"]))))
        placed[op["id"]] = (t, t + op["duration"])
        slots.append((t, t + op["duration"]))
        nxt[job["name"]] = k + 1
    return placed


def _instruction(c: dict[str, Any]) -> str:
    jobs = c["jobs"]
    lines = [f"A workshop has to process {len(jobs)} job{'s' if len(jobs) != 1 else ''}. Each job is a chain of "
             "operations that must run in the order given, each on one resource, without interruption. Time is "
             "counted in hours from the start of the shift (t=0).",
             "Resources and how many operations each can run at the same time: "
             + ", ".join(f"{m} {cap}" for m, cap in c["machines"].items()) + "."]
    for job in jobs:
        due = f"due by t={job['deadline']}" if job["deadline"] is not None else "no deadline"
        steps = ", then ".join(f"{op['id']} on {op['machine']} for {op['duration']} h" for op in job["ops"])
        lines.append(f"Job {job['name']} ({job['product']}): released at t={job['release']}, {due}. {steps}.")
    lines += [f"{after} cannot start before {before} has finished." for before, after in c["precedences"]]
    lines += ["", "Find a schedule that finishes all jobs as early as possible (minimum makespan) and meets every "
              'deadline. Answer with "SOLUTION:" followed by one line per operation, '
              '"<op> on <resource> from t=<start> to t=<end>", and a last line "Makespan: <hours>".']
    return "\n".join(lines)


def _think(c: dict[str, Any], solution: list[dict[str, Any]]) -> str:
    chain, machine_bound = solvers.lower_bounds(c)
    bound = max([*chain.values(), *machine_bound.values()])
    span = max(s["end"] for s in solution)
    waits = ", waiting where a precedence says so" if c["precedences"] else ""
    out = [f"Lower bounds first. Each job's release plus its chain of operations{waits}: "
           + ", ".join(f"{j} {v}" for j, v in chain.items()) + ". Each resource's work from its first release, "
           "divided by its capacity: " + ", ".join(f"{m} {v}" for m, v in machine_bound.items())
           + f". So no schedule ends before t={bound}."]
    out.append("Placing each operation as early as its release, its predecessors and its resource allow:")
    out += [f"{s['op']} on {s['machine']} {s['start']}-{s['end']}." for s in solution]
    for job in c["jobs"]:
        if job["deadline"] is not None:
            done = max(s["end"] for s in solution if s["op"] in {op["id"] for op in job["ops"]})
            out.append(f"Job {job['name']} is done at t={done}, within its deadline t={job['deadline']}.")
    if span == bound:
        out.append(f"The makespan is {span}, equal to the lower bound, so it is optimal.")
    else:
        out.append(f"The makespan is {span}. The bound {bound} cannot be reached: trying the other orders on the "
                   f"shared resources, every one of them ends at t={span} or later.")
    out.append(render_conclusion(solution))
    return "\n".join(out)
