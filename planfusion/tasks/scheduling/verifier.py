"""Independent verifier for scheduling records: parse the answer, replay it against every constraint.

It imports no generator code. Constraints come from ground truth, which must equal what the
instruction text states (``instruction_mismatch`` otherwise); the answer is parsed from its text.
Objective checks (not_earliest, not_optimal) run only on plans that break no hard constraint, so a
wrong plan is reported for what it breaks. Check names (stable):

  record_malformed, trajectory_malformed, answer_mismatch, text_mismatch, instruction_mismatch,
  bad_format, ground_truth_mismatch,
  calendar_meeting: day_not_allowed, wrong_duration, outside_work_hours, overlap_busy,
                    preference_violated, not_earliest
  meeting_route:    start_mismatch, unknown_location, unknown_friend, travel_time_wrong,
                    travel_time_ignored, timeline_inconsistent, window_violated,
                    min_duration_not_met, duplicate_meeting, not_optimal
  trip_itinerary:   unknown_city, city_missing, city_repeated, stay_length_wrong,
                    days_not_contiguous, total_days_wrong, flight_not_direct,
                    itinerary_inconsistent, event_missed
  job_shop:         unknown_operation, duplicate_operation, missing_operation, wrong_machine,
                    wrong_duration, release_violated, precedence_violated, capacity_exceeded,
                    deadline_missed, makespan_mismatch, not_optimal
"""

from __future__ import annotations

import json
from typing import Any, Callable

from planfusion.tasks.family import Record, Verdict
from planfusion.tasks.scheduling.answer_parser import calendar_answer, job_answer, route_answer, trip_answer
from planfusion.tasks.scheduling.instruction_parser import parse_instruction

Violations = list[tuple[str, str]]
Metrics = dict[str, float]


def verify(record: Record) -> Verdict:
    try:
        violations, metrics = _verify(record)
    except Exception as exc:  # noqa: BLE001 - bad content is a violation, never a crash
        violations, metrics = [("record_malformed", f"{type(exc).__name__}: {exc}")], {}
    return Verdict(passed=not violations, violations=tuple(violations), metrics=metrics)


def _verify(record: Record) -> tuple[Violations, Metrics]:
    if not isinstance(record, dict):
        return [("record_malformed", "record is not a dict")], {}
    subtype, task, truth, answer = record.get("subtype"), record.get("task"), record.get("ground_truth"), record.get("answer")
    if subtype not in CHECKS:
        return [("record_malformed", f"unknown subtype {subtype!r}")], {}
    if not (isinstance(task, dict) and isinstance(task.get("instruction"), str) and isinstance(truth, dict)
            and isinstance(truth.get("constraints"), dict) and isinstance(answer, str)):
        return [("record_malformed", "task.instruction, ground_truth.constraints or answer missing")], {}
    instruction = task["instruction"]
    violations = _trajectory(record.get("trajectory"), instruction, answer)
    if record.get("text") != f"{instruction}\n\n{answer}":
        violations.append(("text_mismatch", "text is not instruction + blank line + answer"))
    try:
        stated = parse_instruction(subtype, instruction)
    except ValueError as exc:
        violations.append(("instruction_mismatch", f"instruction not understood: {exc}"))
    else:
        if _canon(stated) != _canon(truth["constraints"]):
            violations.append(("instruction_mismatch", "the instruction states other constraints than ground truth"))
    found, metrics = CHECKS[subtype](truth, answer)
    return violations + found, metrics


def _trajectory(trajectory: Any, instruction: str, answer: str) -> Violations:
    if not isinstance(trajectory, list) or not trajectory or not all(isinstance(m, dict) for m in trajectory):
        return [("trajectory_malformed", "trajectory is not a non-empty list of messages")]
    out: Violations = []
    roles = [m.get("role") for m in trajectory]
    if roles[0] != "system" or "user" not in roles or roles[-1] != "assistant":
        out.append(("trajectory_malformed", f"roles {roles} should go system, user, ..., assistant"))
    elif trajectory[roles.index("user")].get("content") != instruction:
        out.append(("trajectory_malformed", "the first user message is not the instruction"))
    if any(m.get("role") == "assistant" and not isinstance(m.get("think", ""), str) for m in trajectory):
        out.append(("trajectory_malformed", "an assistant think is not text"))
    if trajectory[-1].get("content") != answer:
        out.append(("answer_mismatch", "the last message does not carry the answer"))
    return out


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _t(minutes: int) -> str:
    return f"{minutes // 60}:{minutes % 60:02d}"


# -- calendar_meeting ---------------------------------------------------------------------------------

def _calendar(truth: dict[str, Any], answer: str) -> tuple[Violations, Metrics]:
    c = truth["constraints"]
    try:
        day, start, end = calendar_answer(answer)
    except ValueError as exc:
        return [("bad_format", str(exc))], {}
    if day not in c["days"]:
        return [("day_not_allowed", f"{day} is not one of {', '.join(c['days'])}")], {}
    out: Violations = []
    ws, we = c["work_hours"]
    if end - start != c["duration"]:
        out.append(("wrong_duration", f"{_t(start)} - {_t(end)} is not {c['duration']} minutes"))
    if start < ws or end > we:
        out.append(("outside_work_hours", f"{_t(start)} - {_t(end)} leaves {_t(ws)} - {_t(we)}"))
    for name in c["participants"]:
        for bday, s, e in c["busy"][name]:
            if bday == day and s < end and e > start:
                out.append(("overlap_busy", f"{name} is busy {_t(s)} - {_t(e)} on {day}"))
    for p in c["preferences"]:
        if p["day"] in (None, day) and _breaks(p, start, end):
            out.append(("preference_violated", f"{p['person']}: {p['kind']} {p['day'] or 'any day'} "
                                               f"{'' if p['time'] is None else _t(p['time'])}".rstrip()))
    if out:
        return out, {}
    earliest = _earliest(c)
    days = c["days"]
    if earliest is None:
        return [("ground_truth_mismatch", "the answer fits but no slot was found by enumeration")], {}
    delay = (days.index(day) - days.index(earliest[0])) * 1440 + start - earliest[1]
    if delay > 0:
        out.append(("not_earliest", f"{earliest[0]}, {_t(earliest[1])} is earlier and also works"))
    solution = truth.get("solution") or {}
    if (solution.get("day"), solution.get("start")) != earliest:
        out.append(("ground_truth_mismatch", f"ground truth {solution} is not the earliest slot {earliest}"))
    return out, {"delay_minutes": float(delay)}


def _breaks(p: dict[str, Any], start: int, end: int) -> bool:
    kind = p["kind"]
    return kind == "avoid_day" or (kind == "not_before" and start < p["time"]) or (kind == "end_by" and end > p["time"])


def _earliest(c: dict[str, Any]) -> tuple[str, int] | None:
    """Feasible starts form intervals whose left ends are the work start, a busy end or a not-before time."""
    ws, we = c["work_hours"]
    d = c["duration"]
    for day in c["days"]:
        blocks = [(s, e) for name in c["participants"] for bday, s, e in c["busy"][name] if bday == day]
        prefs = [p for p in c["preferences"] if p["day"] in (None, day)]
        times = [p["time"] for p in prefs if p["kind"] == "not_before"]
        for t in sorted({ws, *times, *(e for _, e in blocks)}):
            if ws <= t and t + d <= we and not any(s < t + d and e > t for s, e in blocks) \
                    and not any(_breaks(p, t, t + d) for p in prefs):
                return day, t
    return None


# -- meeting_route -------------------------------------------------------------------------------------

def _route(truth: dict[str, Any], answer: str) -> tuple[Violations, Metrics]:
    c = truth["constraints"]
    try:
        steps = route_answer(answer)
    except ValueError as exc:
        return [("bad_format", str(exc))], {}
    travel = {(a, b): t for a, b, t in c["travel"]} | {(b, a): t for a, b, t in c["travel"]}
    friends = {f["name"]: f for f in c["friends"]}
    out: Violations = []
    _, where, when = steps[0]
    pos, now = c["start"]["location"], c["start"]["time"]
    if (where, when) != (pos, now):
        out.append(("start_mismatch", f"starts at {where} {_t(when)}, not {pos} {_t(now)}"))
    met: list[str] = []
    for step in steps[1:]:
        if step[0] == "travel":
            _, dest, stated, arrive = step
            need = travel.get((pos, dest))
            if need is None:
                out.append(("unknown_location", f"no travel time from {pos} to {dest}"))
            else:
                if stated != need:
                    out.append(("travel_time_wrong", f"{pos} to {dest} takes {need} minutes, not {stated}"))
                if arrive < now + need:
                    out.append(("travel_time_ignored", f"arrives at {dest} {_t(arrive)}, before {_t(now + need)}"))
                elif arrive > now + need:
                    out.append(("timeline_inconsistent", f"arrives at {dest} {_t(arrive)}, not {_t(now + need)}"))
            pos, now = dest, arrive
        elif step[0] == "wait":
            if step[1] < now:
                out.append(("timeline_inconsistent", f"waits until {_t(step[1])}, already {_t(now)}"))
            now = max(now, step[1])
        else:
            _, name, stated, s, e = step
            f = friends.get(name)
            if f is None:
                out.append(("unknown_friend", f"{name} is not among the friends"))
                continue
            if f["location"] != pos:
                out.append(("travel_time_ignored", f"meets {name} at {f['location']} while at {pos}"))
                pos = f["location"]
            if s < now or e <= s or e - s != stated:
                out.append(("timeline_inconsistent", f"meeting {name} {_t(s)} - {_t(e)} ({stated} min) at {_t(now)}"))
            if s < f["window"][0] or e > f["window"][1]:
                out.append(("window_violated", f"{name} is there {_t(f['window'][0])} - {_t(f['window'][1])}, "
                                               f"met {_t(s)} - {_t(e)}"))
            if e - s < f["min_minutes"]:
                out.append(("min_duration_not_met", f"{name} needs {f['min_minutes']} minutes, got {e - s}"))
            if name in met:
                out.append(("duplicate_meeting", f"{name} is met twice"))
            else:
                met.append(name)
            now = max(now, e)
    optimum = truth.get("optimum")
    metrics = {"met": float(len(met)), "optimum": float(optimum) if isinstance(optimum, int) else -1.0}
    if not out:
        if not isinstance(optimum, int) or len(met) > optimum:
            out.append(("ground_truth_mismatch", f"{len(met)} friends met, ground truth optimum {optimum!r}"))
        elif len(met) < optimum:
            out.append(("not_optimal", f"meets {len(met)} friends, {optimum} are possible"))
    return out, metrics


# -- trip_itinerary ------------------------------------------------------------------------------------

def _trip(truth: dict[str, Any], answer: str) -> tuple[Violations, Metrics]:
    c = truth["constraints"]
    try:
        lines = trip_answer(answer)
    except ValueError as exc:
        return [("bad_format", str(exc))], {}
    required = {city: days for city, days in c["stays"]}
    flights = {frozenset(pair) for pair in c["flights"]}
    stays = [(city, a, b) for kind, city, a, b in lines if kind == "stay"]
    cities = [city for city, _, _ in stays]
    out: Violations = []
    out += [("unknown_city", f"{city} is not on the list") for city in cities if city not in required]
    out += [("city_missing", f"{city} is never visited") for city in required if city not in cities]
    out += [("city_repeated", f"{city} is visited {cities.count(city)} times")
            for city in dict.fromkeys(cities) if cities.count(city) > 1]
    out += [("stay_length_wrong", f"{city} days {a}-{b} is {b - a + 1} days, not {required[city]}")
            for city, a, b in stays if city in required and b - a + 1 != required[city]]
    if stays[0][1] != 1:
        out.append(("days_not_contiguous", f"the trip starts on day {stays[0][1]}"))
    out += [("days_not_contiguous", f"{city} starts on day {a}, {prev} ends on day {end}")
            for (prev, _, end), (city, a, _) in zip(stays, stays[1:]) if a != end]
    if stays[-1][2] != c["total_days"]:
        out.append(("total_days_wrong", f"the trip ends on day {stays[-1][2]}, not {c['total_days']}"))
    out += [("flight_not_direct", f"no direct flight between {x} and {y}")
            for (x, _, _), (y, _, _) in zip(stays, stays[1:]) if frozenset((x, y)) not in flights]
    expected: list[tuple[Any, ...]] = []
    for prev, stay in zip([None, *stays], stays):
        if prev is not None:
            expected.append(("fly", stay[1], prev[0], stay[0]))
        expected.append(("stay", *stay))
    if lines != expected:
        out.append(("itinerary_inconsistent", "flight lines do not match the moves between consecutive stays"))
    where = {city: (a, b) for city, a, b in stays}
    for e in c["events"]:
        first, last = where.get(e["city"], (0, -1))
        if not (first <= e["from"] and e["to"] <= last):
            out.append(("event_missed", f"{e['what']} in {e['city']} on days {e['from']}-{e['to']} falls outside "
                                        f"the stay there"))
    return out, {"stays": float(len(stays))}


# -- job_shop ------------------------------------------------------------------------------------------

def _job(truth: dict[str, Any], answer: str) -> tuple[Violations, Metrics]:
    c = truth["constraints"]
    try:
        ops, stated = job_answer(answer)
    except ValueError as exc:
        return [("bad_format", str(exc))], {}
    spec = {op["id"]: (job, op) for job in c["jobs"] for op in job["ops"]}
    out: Violations = []
    placed: dict[str, tuple[str, int, int]] = {}
    for op, machine, s, e in ops:
        if op not in spec:
            out.append(("unknown_operation", f"{op} is not an operation of any job"))
        elif op in placed:
            out.append(("duplicate_operation", f"{op} is scheduled twice"))
        else:
            placed[op] = (machine, s, e)
    out += [("missing_operation", f"{op} is not scheduled") for op in spec if op not in placed]
    for op, (machine, s, e) in placed.items():
        job, want = spec[op]
        if machine != want["machine"]:
            out.append(("wrong_machine", f"{op} runs on {want['machine']}, not {machine}"))
        if e - s != want["duration"]:
            out.append(("wrong_duration", f"{op} takes {want['duration']} h, scheduled {s}-{e}"))
        if s < job["release"]:
            out.append(("release_violated", f"{op} starts at t={s}, job {job['name']} is released at t={job['release']}"))
    pairs = [(a["id"], b["id"]) for job in c["jobs"] for a, b in zip(job["ops"], job["ops"][1:])]
    for before, after in [*pairs, *map(tuple, c["precedences"])]:
        if before in placed and after in placed and placed[after][1] < placed[before][2]:
            out.append(("precedence_violated", f"{after} starts at t={placed[after][1]} before {before} ends "
                                               f"at t={placed[before][2]}"))
    for machine, cap in c["machines"].items():
        spans = [(s, e) for m, s, e in placed.values() if m == machine]
        peak = max((sum(1 for s2, e2 in spans if s2 <= s < e2) for s, _ in spans), default=0)
        if peak > cap:
            out.append(("capacity_exceeded", f"{machine} runs {peak} operations at once, capacity {cap}"))
    for job in c["jobs"]:
        last = job["ops"][-1]["id"]
        if job["deadline"] is not None and last in placed and placed[last][2] > job["deadline"]:
            out.append(("deadline_missed", f"job {job['name']} ends at t={placed[last][2]}, due t={job['deadline']}"))
    makespan = max((e for _, _, e in placed.values()), default=0)
    if stated != makespan:
        out.append(("makespan_mismatch", f"states makespan {stated}, the schedule ends at t={makespan}"))
    optimum = truth.get("optimum")
    metrics = {"makespan": float(makespan), "optimum": float(optimum) if isinstance(optimum, int) else -1.0}
    if not out:
        if not isinstance(optimum, int) or makespan < optimum:
            out.append(("ground_truth_mismatch", f"makespan {makespan} beats the ground-truth optimum {optimum!r}"))
        elif makespan > optimum:
            out.append(("not_optimal", f"makespan {makespan}, the optimum is {optimum}"))
    return out, metrics


CHECKS: dict[str, Callable[[dict[str, Any], str], tuple[Violations, Metrics]]] = {
    "calendar_meeting": _calendar,
    "meeting_route": _route,
    "trip_itinerary": _trip,
    "job_shop": _job,
}
