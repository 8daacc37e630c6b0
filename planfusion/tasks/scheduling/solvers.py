"""Exact solvers that confirm a planted solution from the structured constraints alone.

They read only the constraint dicts the instruction states (never the builder's internal state), so
a planting mistake shows up as a disagreement and the builder rejects the sample. Each is kept
small enough to run in well under a millisecond on the instance sizes the builders produce.
"""

from __future__ import annotations

from typing import Any

INF = 10**9


def earliest_slot(c: dict[str, Any]) -> tuple[str, int] | None:
    """(day, start) of the earliest slot free for everyone within work hours and preferences."""
    ws, we = c["work_hours"]
    d = c["duration"]
    for day in c["days"]:
        lo, hi, skip = ws, we, False
        for p in c["preferences"]:
            if p["day"] not in (None, day):
                continue
            if p["kind"] == "avoid_day":
                skip = True
            elif p["kind"] == "not_before":
                lo = max(lo, p["time"])
            else:
                hi = min(hi, p["time"])
        if skip:
            continue
        busy = sorted((s, e) for blocks in c["busy"].values() for bday, s, e in blocks if bday == day)
        t = lo
        for s, e in busy:
            if s >= t + d:
                break
            t = max(t, e)
        if t + d <= hi:
            return day, t
    return None


def max_meetings(c: dict[str, Any]) -> int:
    """Most friends that can be met: DP over (set met, last friend) keeping the earliest finish,
    which dominates any later finish of the same state."""
    travel: dict[tuple[str, str], int] = {}
    for a, b, minutes in c["travel"]:
        travel[a, b] = travel[b, a] = minutes
    friends = c["friends"]
    n = len(friends)
    start, t0 = c["start"]["location"], c["start"]["time"]
    best: list[dict[int, int]] = [{} for _ in range(1 << n)]
    top = 0
    for i, f in enumerate(friends):
        begin = max(t0 + travel[start, f["location"]], f["window"][0])
        if begin + f["min_minutes"] <= f["window"][1]:
            best[1 << i][i] = begin + f["min_minutes"]
    for mask in range(1, 1 << n):
        states = best[mask]
        if not states:
            continue
        top = max(top, mask.bit_count())
        for last, end in states.items():
            here = friends[last]["location"]
            for j, f in enumerate(friends):
                if mask >> j & 1:
                    continue
                begin = max(end + travel[here, f["location"]], f["window"][0])
                finish = begin + f["min_minutes"]
                if finish <= f["window"][1]:
                    nxt = best[mask | 1 << j]
                    if finish < nxt.get(j, INF):
                        nxt[j] = finish
    return top


def trip_itineraries(c: dict[str, Any], limit: int | None = None) -> list[list[tuple[str, int, int]]]:
    """Itineraries [(city, first day, last day), ...] allowed by the stated constraints, up to ``limit``.

    Exhaustive over city orders: every city once for its stay, consecutive stays share the flight day
    and have a direct flight, the trip runs from day 1 to the total, and every day of an event lies in
    the stay in its city (the instruction's "you must be in X on every day from day a to day b").
    """
    stays = {city: days for city, days in c["stays"]}
    flights = {frozenset(pair) for pair in c["flights"]}
    links = {city: [other for other in stays if frozenset((city, other)) in flights] for city in stays}  # listing order
    events: dict[str, list[tuple[int, int]]] = {city: [] for city in stays}
    for e in c["events"]:
        events[e["city"]].append((e["from"], e["to"]))
    found: list[list[tuple[str, int, int]]] = []
    plan: list[tuple[str, int, int]] = []
    visited: set[str] = set()

    def extend(first_day: int) -> None:
        if len(plan) == len(stays):
            if first_day == c["total_days"]:
                found.append(list(plan))
            return
        for city in stays if not plan else links[plan[-1][0]]:
            if city in visited:
                continue
            last_day = first_day + stays[city] - 1
            if all(first_day <= a and b <= last_day for a, b in events[city]):
                plan.append((city, first_day, last_day))
                visited.add(city)
                extend(last_day)
                visited.discard(city)
                plan.pop()
                if limit is not None and len(found) >= limit:
                    return

    extend(1)
    return found


def lower_bounds(c: dict[str, Any]) -> tuple[dict[str, int], dict[str, int]]:
    """The simple bounds a reasoning states before any search, per job and per resource with work.

    A job cannot end before its release plus its chain of operations, each also waiting for the
    operations a precedence puts before it; a resource cannot finish its work before its first
    release plus that work divided by its capacity (rounded up).
    """
    preds: dict[str, list[str]] = {}
    spec: dict[str, tuple[int, int]] = {}                # op -> (release, duration)
    for job in c["jobs"]:
        for k, op in enumerate(job["ops"]):
            preds[op["id"]] = [job["ops"][k - 1]["id"]] if k else []
            spec[op["id"]] = (job["release"], op["duration"])
    for before, after in c["precedences"]:
        preds[after].append(before)
    finish: dict[str, int] = {}

    def earliest_end(op: str) -> int:
        if op not in finish:
            release, duration = spec[op]
            finish[op] = max([release, *(earliest_end(p) for p in preds[op])]) + duration
        return finish[op]

    jobs = {job["name"]: earliest_end(job["ops"][-1]["id"]) for job in c["jobs"]}
    load: dict[str, int] = {}
    first: dict[str, int] = {}
    for job in c["jobs"]:
        for op in job["ops"]:
            load[op["machine"]] = load.get(op["machine"], 0) + op["duration"]
            first[op["machine"]] = min(first.get(op["machine"], job["release"]), job["release"])
    machines = {m: first[m] + -(-load[m] // cap) for m, cap in c["machines"].items() if m in load}
    return jobs, machines


def lower_bound(c: dict[str, Any]) -> int:
    """The largest of ``lower_bounds``: an optimum above it needs reasoning about resource conflicts."""
    jobs, machines = lower_bounds(c)
    return max([*jobs.values(), *machines.values()])


def min_makespan(c: dict[str, Any], bound: int) -> int | None:
    """Smallest makespan below ``bound`` over all feasible schedules, or None if there is none.

    Branch and bound over serial schedule generation (every op placed at its earliest feasible
    start, which yields the active schedules, among them an optimal one). Two placements on
    different machines with no precedence between them commute, so only their index order is
    explored.
    """
    ops: list[tuple[str, str, int]] = []        # (id, machine, duration)
    release: list[int] = []
    latest_end: list[int] = []
    tail: list[int] = []                         # own duration plus the job's later operations
    index: dict[str, int] = {}
    preds: list[list[int]] = []
    for job in c["jobs"]:
        rest = sum(op["duration"] for op in job["ops"])
        for k, op in enumerate(job["ops"]):
            i = len(ops)
            index[op["id"]] = i
            ops.append((op["id"], op["machine"], op["duration"]))
            release.append(job["release"])
            tail.append(rest)
            rest -= op["duration"]
            latest_end.append(INF if job["deadline"] is None else job["deadline"] - rest)
            preds.append([i - 1] if k else [])
    for before, after in c["precedences"]:
        preds[index[after]].append(index[before])
    cap = c["machines"]
    n = len(ops)
    end: list[int | None] = [None] * n
    busy: dict[str, list[tuple[int, int]]] = {m: [] for m in cap}
    floor = lower_bound(c)
    best = [bound]

    def fit(machine: str, est: int, dur: int) -> int:
        slots = busy[machine]
        limit = cap[machine]
        if limit == 1:
            t = est
            for s, e in sorted(slots):
                if s >= t + dur:
                    break
                t = max(t, e)
            return t
        for t in sorted({est, *(e for _, e in slots if e > est)}):
            # the load over [t, t + dur) peaks at t or where another operation starts
            points = [t, *(s for s, _ in slots if t < s < t + dur)]
            if all(sum(1 for s, e in slots if s <= x < e) < limit for x in points):
                return t
        raise AssertionError("a machine is always free after its last operation ends")

    def search(done: int, last: int, makespan: int) -> None:
        if done == n:
            best[0] = makespan
            return
        options = []
        for i in range(n):
            if end[i] is not None or any(end[p] is None for p in preds[i]):
                continue
            if last >= 0 and i < last and ops[i][1] != ops[last][1] and last not in preds[i]:
                continue
            est = max([release[i]] + [end[p] for p in preds[i]])  # type: ignore[misc]
            t = fit(ops[i][1], est, ops[i][2])
            if t + ops[i][2] <= latest_end[i]:
                options.append((t + tail[i], t, i))
        for reach, t, i in sorted(options):
            if max(makespan, reach) >= best[0] or best[0] <= floor:
                return  # options are sorted by reach, and a schedule at the lower bound cannot be beaten
            finish = t + ops[i][2]
            end[i] = finish
            busy[ops[i][1]].append((t, finish))
            search(done + 1, i, max(makespan, finish))
            busy[ops[i][1]].pop()
            end[i] = None

    search(0, -1, 0)
    return best[0] if best[0] < bound else None
