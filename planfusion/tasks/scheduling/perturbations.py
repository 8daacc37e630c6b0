"""Negatives: realistic wrong or low-quality scheduling records made from clean ones.

Each kind edits the plan the way a careless planner would, re-renders the answer (and the reasoning's
conclusion, so the record stays self-consistent and only the intended check fires), and stamps the
copy as a child of the clean record. A kind returns None when it does not apply to the subtype or
the instance offers no such mistake (e.g. no preference that a free slot could break).
"""

from __future__ import annotations

import copy
import itertools
import random
from typing import Any, Callable

from planfusion.tasks.family import Perturbation, Record
from planfusion.tasks.record import build_record
from planfusion.tasks.scheduling import calendar_meeting, generator, job_shop, meeting_route, trip_itinerary

Solution = Any


def _child(record: Record, kind: str, answer: str | None = None, conclusion: str | None = None,
           correct: bool = False) -> Record:
    """A copy of ``record`` with a new answer and/or a new last "Conclusion:" line in the final think."""
    r = copy.deepcopy(record)
    final = r["trajectory"][-1]
    if answer is not None:
        r["answer"] = final["content"] = answer
    if conclusion is not None:
        lines = final["think"].split("\n")
        at = max(i for i, line in enumerate(lines) if line.startswith("Conclusion: "))
        final["think"] = "\n".join(lines[:at] + [conclusion] + lines[at + 1:])
    quality = {**r["quality"], "answer_correct": correct, "flags": [*r["quality"]["flags"], kind]}
    if kind == "format_broken":
        quality["format_ok"] = False
    lineage = r["lineage"]
    return build_record(
        family=r["family"], subtype=r["subtype"], task=r["task"], ground_truth=r["ground_truth"],
        trajectory=r["trajectory"], answer=r["answer"], difficulty=r["difficulty"], quality=quality,
        generator=lineage["generator"], version=lineage["generator_version"], master_seed=lineage["master_seed"],
        index=lineage["index"], seed=lineage["seed"], params=lineage["params"],
        text=f"{r['task']['instruction']}\n\n{r['answer']}", parent_id=r["id"], perturbation=kind,
    )


def _with_plan(record: Record, kind: str, solution: Solution) -> Record:
    module = RENDERERS[record["subtype"]]
    return _child(record, kind, module.render_answer(solution), module.render_conclusion(solution))


# -- calendar_meeting ----------------------------------------------------------------------------------

def _slots(c: dict[str, Any]) -> list[tuple[str, int, bool, bool]]:
    """Every on-grid slot within work hours: (day, start, overlaps someone, breaks a preference)."""
    ws, we = c["work_hours"]
    d = c["duration"]
    out = []
    for day in c["days"]:
        blocks = [(s, e) for blocks in c["busy"].values() for bday, s, e in blocks if bday == day]
        prefs = [p for p in c["preferences"] if p["day"] in (None, day)]
        for t in range(ws, we - d + 1, calendar_meeting.GRID):
            busy = any(s < t + d and e > t for s, e in blocks)
            breaks = any(p["kind"] == "avoid_day" or (p["kind"] == "not_before" and t < p["time"])
                         or (p["kind"] == "end_by" and t + d > p["time"]) for p in prefs)
            out.append((day, t, busy, breaks))
    return out


def _calendar_move(record: Record, rng: random.Random, kind: str,
                   keep: Callable[[tuple[str, int, bool, bool], tuple[str, int]], bool]) -> Record | None:
    if record["subtype"] != calendar_meeting.SUBTYPE:
        return None
    c = record["ground_truth"]["constraints"]
    sol = record["ground_truth"]["solution"]
    order = {day: i for i, day in enumerate(c["days"])}
    here = (order[sol["day"]], sol["start"])
    options = [slot for slot in _slots(c) if keep(slot, here) and (order[slot[0]], slot[1]) != here]
    if not options:
        return None
    day, start, _, _ = rng.choice(options)
    return _with_plan(record, kind, {"day": day, "start": start, "end": start + c["duration"]})


def into_busy_block(record: Record, rng: random.Random) -> Record | None:
    return _calendar_move(record, rng, "slot_in_busy_block", lambda slot, _: slot[2] and not slot[3])


def break_preference(record: Record, rng: random.Random) -> Record | None:
    return _calendar_move(record, rng, "preference_violated", lambda slot, _: slot[3] and not slot[2])


def later_slot(record: Record, rng: random.Random) -> Record | None:
    days = record["ground_truth"]["constraints"]["days"] if record["subtype"] == calendar_meeting.SUBTYPE else []
    return _calendar_move(record, rng, "not_earliest",
                          lambda slot, here: not slot[2] and not slot[3] and (days.index(slot[0]), slot[1]) > here)


# -- meeting_route -------------------------------------------------------------------------------------

def _replay(c: dict[str, Any], meetings: list[dict[str, Any]], teleport: int = -1) -> list[dict[str, Any]]:
    """Re-time the planned meetings as early as possible; meeting ``teleport`` skips its travel."""
    travel = {(a, b): t for a, b, t in c["travel"]} | {(b, a): t for a, b, t in c["travel"]}
    friends = {f["name"]: f for f in c["friends"]}
    pos, now = c["start"]["location"], c["start"]["time"]
    out = []
    for i, m in enumerate(meetings):
        f = friends[m["friend"]]
        minutes = None if i == teleport else travel[pos, f["location"]]
        arrive = now + (minutes or 0)
        start = max(arrive, f["window"][0])
        out.append({**m, "travel": minutes, "arrive": arrive, "start": start, "end": start + f["min_minutes"]})
        pos, now = f["location"], start + f["min_minutes"]
    return out


def ignore_travel(record: Record, rng: random.Random) -> Record | None:
    if record["subtype"] != meeting_route.SUBTYPE:
        return None
    sol = record["ground_truth"]["solution"]
    meetings = _replay(record["ground_truth"]["constraints"], sol["meetings"], rng.randrange(len(sol["meetings"])))
    return _with_plan(record, "travel_ignored", {**sol, "meetings": meetings})


def overstay(record: Record, rng: random.Random) -> Record | None:
    """The last meeting runs past the friend's window."""
    if record["subtype"] != meeting_route.SUBTYPE:
        return None
    sol = copy.deepcopy(record["ground_truth"]["solution"])
    last = sol["meetings"][-1]
    window_end = next(f["window"][1] for f in record["ground_truth"]["constraints"]["friends"] if f["name"] == last["friend"])
    last["end"] = window_end + rng.choice((15, 30, 45))
    return _with_plan(record, "window_violated", sol)


# -- trip_itinerary ------------------------------------------------------------------------------------

def _stays(order: list[str], lengths: dict[str, int]) -> list[dict[str, Any]]:
    out, day = [], 1
    for city in order:
        out.append({"city": city, "from": day, "to": day + lengths[city] - 1})
        day += lengths[city] - 1
    return out


def indirect_flight(record: Record, rng: random.Random) -> Record | None:
    """Another city order that keeps every event but needs a flight that does not exist."""
    if record["subtype"] != trip_itinerary.SUBTYPE:
        return None
    c = record["ground_truth"]["constraints"]
    lengths = {city: days for city, days in c["stays"]}
    flights = {frozenset(pair) for pair in c["flights"]}
    options = []
    for order in itertools.permutations(lengths):
        plan = _stays(list(order), lengths)
        where = {s["city"]: (s["from"], s["to"]) for s in plan}
        if all(where[e["city"]][0] <= e["from"] and e["to"] <= where[e["city"]][1] for e in c["events"]) and \
                any(frozenset(pair) not in flights for pair in zip(order, order[1:])):
            options.append(plan)
    return _with_plan(record, "flight_not_direct", rng.choice(options)) if options else None


def wrong_stay(record: Record, rng: random.Random) -> Record | None:
    """Move one flight a day earlier or later, so the two stays around it get the wrong lengths."""
    if record["subtype"] != trip_itinerary.SUBTYPE or len(record["ground_truth"]["solution"]) < 2:
        return None
    sol = copy.deepcopy(record["ground_truth"]["solution"])
    i = rng.randrange(len(sol) - 1)
    shift = rng.choice([s for s in (-1, 1) if sol[i]["from"] <= sol[i]["to"] + s <= sol[i + 1]["to"]])
    sol[i]["to"] += shift
    sol[i + 1]["from"] += shift
    return _with_plan(record, "stay_length_wrong", sol)


# -- job_shop ------------------------------------------------------------------------------------------

def _job_facts(record: Record) -> tuple[dict[str, Any], dict[str, dict[str, Any]], dict[str, list[str]], dict[str, list[str]]]:
    """(constraints, solution by op, predecessors by op, successors by op)."""
    c = record["ground_truth"]["constraints"]
    placed = {s["op"]: dict(s) for s in record["ground_truth"]["solution"]}
    preds: dict[str, list[str]] = {op: [] for op in placed}
    succs: dict[str, list[str]] = {op: [] for op in placed}
    pairs = [(a["id"], b["id"]) for job in c["jobs"] for a, b in zip(job["ops"], job["ops"][1:])]
    for before, after in [*pairs, *map(tuple, c["precedences"])]:
        preds[after].append(before)
        succs[before].append(after)
    return c, placed, preds, succs


def _load(placed: dict[str, dict[str, Any]], op: str, start: int, end: int) -> int:
    """Peak number of other operations on ``op``'s machine running during [start, end) plus this one."""
    spans = [(s["start"], s["end"]) for k, s in placed.items() if k != op and s["machine"] == placed[op]["machine"]]
    points = [start, *(s for s, _ in spans if start < s < end)]
    return 1 + max(sum(1 for s, e in spans if s <= x < e) for x in points)


def _job_plan(record: Record, kind: str, placed: dict[str, dict[str, Any]]) -> Record:
    return _with_plan(record, kind, sorted(placed.values(), key=lambda s: (s["start"], s["op"])))


def _job_info(c: dict[str, Any]) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    return {op["id"]: (job, op) for job in c["jobs"] for op in job["ops"]}


def break_precedence(record: Record, rng: random.Random) -> Record | None:
    """Start an operation before one of its predecessors has finished (its machine stays within capacity)."""
    if record["subtype"] != job_shop.SUBTYPE:
        return None
    c, placed, preds, _ = _job_facts(record)
    info = _job_info(c)
    options = []
    for op, before in preds.items():
        job, spec = info[op]
        for p in before:
            for t in range(placed[p]["end"] - 1, job["release"] - 1, -1):
                if _load(placed, op, t, t + spec["duration"]) <= c["machines"][spec["machine"]]:
                    options.append((op, t))
                    break
    if not options:
        return None
    op, t = rng.choice(options)
    placed[op].update(start=t, end=t + placed[op]["end"] - placed[op]["start"])
    return _job_plan(record, "precedence_broken", placed)


def overbook(record: Record, rng: random.Random) -> Record | None:
    """Put an operation on top of others on its machine, beyond capacity, keeping every other rule."""
    if record["subtype"] != job_shop.SUBTYPE:
        return None
    c, placed, preds, succs = _job_facts(record)
    info = _job_info(c)
    span = max(s["end"] for s in placed.values())
    options = []
    for op in placed:
        job, spec = info[op]
        dur = spec["duration"]
        limits = [span] + [placed[q]["start"] for q in succs[op]]
        if job["deadline"] is not None and op == job["ops"][-1]["id"]:
            limits.append(job["deadline"])
        lo = max([job["release"]] + [placed[p]["end"] for p in preds[op]])
        options += [(op, t) for t in range(lo, min(limits) - dur + 1)
                    if _load(placed, op, t, t + dur) > c["machines"][spec["machine"]]]
    if not options:
        return None
    op, t = rng.choice(options)
    placed[op].update(start=t, end=t + info[op][1]["duration"])
    return _job_plan(record, "capacity_exceeded", placed)


def miss_deadline(record: Record, rng: random.Random) -> Record | None:
    """Push a job's last operation past its deadline (only where nothing has to follow it)."""
    if record["subtype"] != job_shop.SUBTYPE:
        return None
    c, placed, preds, succs = _job_facts(record)
    options = []
    for job in c["jobs"]:
        last = job["ops"][-1]
        if job["deadline"] is None or succs[last["id"]]:
            continue
        t = max([job["deadline"] - last["duration"] + 1] + [placed[p]["end"] for p in preds[last["id"]]])
        while _load(placed, last["id"], t, t + last["duration"]) > c["machines"][last["machine"]]:
            t += 1
        options.append((last["id"], t, last["duration"]))
    if not options:
        return None
    op, t, dur = rng.choice(options)
    placed[op].update(start=t, end=t + dur)
    return _job_plan(record, "deadline_missed", placed)


# -- several subtypes ----------------------------------------------------------------------------------

def suboptimal(record: Record, rng: random.Random) -> Record | None:
    """A valid but worse plan: one meeting fewer on the route, or a job shop that finishes later."""
    if record["subtype"] == meeting_route.SUBTYPE:
        sol = copy.deepcopy(record["ground_truth"]["solution"])
        sol["meetings"].pop(rng.randrange(len(sol["meetings"])))
        sol["meetings"] = _replay(record["ground_truth"]["constraints"], sol["meetings"])
        return _with_plan(record, "not_optimal", sol)
    if record["subtype"] != job_shop.SUBTYPE:
        return None
    c, placed, _, succs = _job_facts(record)
    info = _job_info(c)
    span = max(s["end"] for s in placed.values())
    options = []
    for op in placed:
        job, spec = info[op]
        if succs[op]:
            continue
        t = span - spec["duration"] + 1
        while _load(placed, op, t, t + spec["duration"]) > c["machines"][spec["machine"]]:
            t += 1
        if job["deadline"] is None or t + spec["duration"] <= job["deadline"]:
            options.append((op, t, spec["duration"]))
    if not options:
        return None
    op, t, dur = rng.choice(options)
    placed[op].update(start=t, end=t + dur)
    return _job_plan(record, "not_optimal", placed)


def break_format(record: Record, rng: random.Random) -> Record | None:
    """Drop the "SOLUTION:" marker, or write one line in a form the instruction did not ask for."""
    answer = record["answer"]
    if rng.random() < 0.5:
        broken = answer.replace("SOLUTION: ", "").replace("SOLUTION:\n", "")
    elif record["subtype"] == calendar_meeting.SUBTYPE:
        broken = answer.replace(", ", " ").replace(" - ", " until ")
    else:
        lines = answer.split("\n")
        i = rng.randrange(1, len(lines))
        broken = "\n".join(lines[:i] + [lines[i].replace(" ", "_", 2)] + lines[i + 1:])
    return _child(record, "format_broken", broken)


def too_easy(record: Record, rng: random.Random) -> Record | None:
    """The same kind of task shrunk to a single scheduled item: correct, but nothing to learn."""
    level = record["difficulty"]["level"]
    instance = generator.build_instance(record["subtype"], rng, level, minimal=True)
    lineage = {k: record["lineage"][k] for k in ("master_seed", "index", "seed", "params")}
    return generator.assemble(instance, level, lineage, parent_id=record["id"], perturbation="too_few_steps")


def contradict(record: Record, rng: random.Random) -> Record | None:
    """The reasoning concludes a different plan than the (correct) answer gives."""
    subtype = record["subtype"]
    sol = copy.deepcopy(record["ground_truth"]["solution"])
    if subtype == calendar_meeting.SUBTYPE:
        shift = rng.choice((-60, -30, 30, 60))
        sol.update(start=sol["start"] + shift, end=sol["end"] + shift)
    elif subtype == meeting_route.SUBTYPE:
        m = rng.choice(sol["meetings"])
        m.update(start=m["start"] + 15, end=m["end"] + 15)
    elif subtype == trip_itinerary.SUBTYPE:
        i, j = rng.sample(range(len(sol)), 2)
        sol[i]["city"], sol[j]["city"] = sol[j]["city"], sol[i]["city"]
    else:
        span = max(s["end"] for s in sol)
        conclusion = job_shop.render_conclusion(sol, span + rng.randint(1, 3))
        return _child(record, "contradiction", conclusion=conclusion, correct=True)
    return _child(record, "contradiction", conclusion=RENDERERS[subtype].render_conclusion(sol), correct=True)


RENDERERS: dict[str, Any] = {
    calendar_meeting.SUBTYPE: calendar_meeting,
    meeting_route.SUBTYPE: meeting_route,
    trip_itinerary.SUBTYPE: trip_itinerary,
    job_shop.SUBTYPE: job_shop,
}

PERTURBATIONS: tuple[Perturbation, ...] = (
    Perturbation("slot_in_busy_block", "overlap_busy", into_busy_block),
    Perturbation("preference_violated", "preference_violated", break_preference),
    Perturbation("not_earliest", "not_earliest", later_slot),
    Perturbation("travel_ignored", "travel_time_ignored", ignore_travel),
    Perturbation("window_violated", "window_violated", overstay),
    Perturbation("flight_not_direct", "flight_not_direct", indirect_flight),
    Perturbation("stay_length_wrong", "stay_length_wrong", wrong_stay),
    Perturbation("precedence_broken", "precedence_violated", break_precedence),
    Perturbation("capacity_exceeded", "capacity_exceeded", overbook),
    Perturbation("deadline_missed", "deadline_missed", miss_deadline),
    Perturbation("not_optimal", "not_optimal", suboptimal),
    Perturbation("format_broken", "bad_format", break_format),
    Perturbation("too_few_steps", "too_easy", too_easy),
    Perturbation("contradiction", "contradiction", contradict),
)
