"""Answer text and reasoning conclusions -> plain tuples, for the verifier and the contradiction filter.

Independent of the generators: only the answer grammar the instruction asks for. Every parser raises
ValueError on text it does not fully understand; callers turn that into a ``bad_format`` violation.
"""

from __future__ import annotations

import re
from typing import Any

T = r"(\d{1,2}):(\d\d)"
CAL_ANSWER = re.compile(rf"SOLUTION:\s*(?:Here is the proposed time:\s*)?([A-Za-z]+),\s*{T}\s*-\s*{T}")
ROUTE_START = re.compile(rf"You start at (.+?) at {T}\.")
ROUTE_TRAVEL = re.compile(rf"You travel to (.+?) in (\d+) minutes and arrive at {T}\.")
ROUTE_WAIT = re.compile(rf"You wait until {T}\.")
ROUTE_MEET = re.compile(rf"You meet (\w+) for (\d+) minutes from {T} to {T}\.")
TRIP_STAY = re.compile(r"Day (\d+)-(\d+): (\w+)")
TRIP_FLY = re.compile(r"Day (\d+): fly from (\w+) to (\w+)")
JOB_OP = re.compile(r"([A-Z]\d+) on ([a-z]+) from t=(\d+) to t=(\d+)")
JOB_MAKESPAN = re.compile(r"Makespan: (\d+)")

CONCLUSION = re.compile(r"Conclusion: (.+)\.")
CAL_CONCLUSION = re.compile(rf"([A-Za-z]+), {T} - {T}")
ROUTE_CONCLUSION = re.compile(r"meet (\d+) friends?: (.*)")
ROUTE_CONCLUSION_ITEM = re.compile(rf"(\w+) {T}-{T}")
TRIP_CONCLUSION_ITEM = re.compile(r"(\w+) days (\d+)-(\d+)")
JOB_CONCLUSION = re.compile(r"makespan (\d+); (.*)")
JOB_CONCLUSION_ITEM = re.compile(r"([A-Z]\d+) (\d+)-(\d+)")


def minutes(hours: str, mins: str) -> int:
    if int(mins) >= 60 or int(hours) > 24:
        raise ValueError(f"bad time {hours}:{mins}")
    return int(hours) * 60 + int(mins)


def calendar_answer(text: str) -> tuple[str, int, int]:
    """(day, start, end) from "SOLUTION: Here is the proposed time: Monday, 13:30 - 14:30"."""
    m = CAL_ANSWER.fullmatch(text.strip())
    if m is None:
        raise ValueError(f"not 'SOLUTION: <Day>, <H:MM> - <H:MM>': {text.strip()[:80]!r}")
    return m[1], minutes(m[2], m[3]), minutes(m[4], m[5])


def route_answer(text: str) -> list[tuple[Any, ...]]:
    """Steps: ("start", location, time), ("travel", location, minutes, arrival), ("wait", time),
    ("meet", name, minutes, start, end)."""
    steps: list[tuple[Any, ...]] = []
    for line in _solution_lines(text):
        if m := ROUTE_TRAVEL.fullmatch(line):
            steps.append(("travel", m[1], int(m[2]), minutes(m[3], m[4])))
        elif m := ROUTE_WAIT.fullmatch(line):
            steps.append(("wait", minutes(m[1], m[2])))
        elif m := ROUTE_MEET.fullmatch(line):
            steps.append(("meet", m[1], int(m[2]), minutes(m[3], m[4]), minutes(m[5], m[6])))
        elif (m := ROUTE_START.fullmatch(line)) and not steps:
            steps.append(("start", m[1], minutes(m[2], m[3])))
        else:
            raise ValueError(f"step not understood: {line!r}")
    if not steps or steps[0][0] != "start":
        raise ValueError("the plan must begin with 'You start at <location> at <H:MM>.'")
    return steps


def trip_answer(text: str) -> list[tuple[Any, ...]]:
    """Lines: ("stay", city, first_day, last_day) and ("fly", day, from_city, to_city)."""
    lines: list[tuple[Any, ...]] = []
    for line in _solution_lines(text):
        if m := TRIP_STAY.fullmatch(line):
            lines.append(("stay", m[3], int(m[1]), int(m[2])))
        elif m := TRIP_FLY.fullmatch(line):
            lines.append(("fly", int(m[1]), m[2], m[3]))
        else:
            raise ValueError(f"line not understood: {line!r}")
    if not any(kind == "stay" for kind, *_ in lines):
        raise ValueError("no 'Day <first>-<last>: <city>' line")
    return lines


def job_answer(text: str) -> tuple[list[tuple[str, str, int, int]], int]:
    """([(op, machine, start, end), ...], stated makespan)."""
    lines = _solution_lines(text)
    if not lines or (last := JOB_MAKESPAN.fullmatch(lines[-1])) is None:
        raise ValueError("the last line must be 'Makespan: <hours>'")
    ops = []
    for line in lines[:-1]:
        m = JOB_OP.fullmatch(line)
        if m is None:
            raise ValueError(f"line not understood: {line!r}")
        ops.append((m[1], m[2], int(m[3]), int(m[4])))
    return ops, int(last[1])


def answer_key(subtype: str, text: str) -> Any:
    """What an answer commits to, in the same shape as ``conclusion_key``."""
    if subtype == "calendar_meeting":
        return calendar_answer(text)
    if subtype == "meeting_route":
        return tuple((s[1], s[3], s[4]) for s in route_answer(text) if s[0] == "meet")
    if subtype == "trip_itinerary":
        return tuple((s[1], s[2], s[3]) for s in trip_answer(text) if s[0] == "stay")
    if subtype == "job_shop":
        ops, makespan = job_answer(text)
        return makespan, tuple(sorted((op, s, e) for op, _, s, e in ops))
    raise ValueError(f"unknown subtype {subtype!r}")


def conclusion_key(subtype: str, think: str) -> Any:
    """What the final "Conclusion: ..." line of a reasoning text commits to; None when there is none."""
    last = next((line for line in reversed(think.split("\n")) if line.startswith("Conclusion: ")), "")
    m = CONCLUSION.fullmatch(last.strip())
    if m is None:
        return None
    body = m[1]
    if subtype == "calendar_meeting":
        c = CAL_CONCLUSION.fullmatch(body)
        return None if c is None else (c[1], minutes(c[2], c[3]), minutes(c[4], c[5]))
    if subtype == "meeting_route":
        c = ROUTE_CONCLUSION.fullmatch(body)
        if c is None:
            return None
        items = [ROUTE_CONCLUSION_ITEM.fullmatch(item) for item in c[2].split(", ")]
        if any(i is None for i in items):
            return None
        return tuple((i[1], minutes(i[2], i[3]), minutes(i[4], i[5])) for i in items)  # type: ignore[index]
    if subtype == "trip_itinerary":
        items = [TRIP_CONCLUSION_ITEM.fullmatch(item) for item in body.split(", ")]
        if any(i is None for i in items):
            return None
        return tuple((i[1], int(i[2]), int(i[3])) for i in items)  # type: ignore[index]
    if subtype == "job_shop":
        c = JOB_CONCLUSION.fullmatch(body)
        if c is None:
            return None
        items = [JOB_CONCLUSION_ITEM.fullmatch(item) for item in c[2].split(", ")]
        if any(i is None for i in items):
            return None
        return int(c[1]), tuple(sorted((i[1], int(i[2]), int(i[3])) for i in items))  # type: ignore[index]
    return None


def _solution_lines(text: str) -> list[str]:
    """Non-blank lines after a first line that is exactly "SOLUTION:"."""
    lines = [line.strip() for line in text.strip().split("\n") if line.strip()]
    if not lines or lines[0] != "SOLUTION:":
        raise ValueError("the answer must start with a line 'SOLUTION:'")
    return lines[1:]
