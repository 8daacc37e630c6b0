"""Instruction text -> structured constraints, the check that the text a solver sees states exactly the
constraints the verifier checks against.

Independent of the generators: it knows only the sentence grammar. Every non-blank line up to the
closing "Find ..." request must be understood, otherwise ValueError names the line.
"""

from __future__ import annotations

import re
from typing import Any

T = r"(\d{1,2}:\d\d)"
DURATION_WORDS = {"half an hour": 30, "one hour": 60, "one and a half hours": 90, "two hours": 120}

CAL_HEAD = re.compile(rf"You need to schedule a meeting for (.+?) for (.+?) between the work hours of {T} to {T} on (.+)\.")
CAL_SCHEDULES = re.compile(r"Here are the existing schedules for everyone during the days?:")
CAL_BUSY = re.compile(r"(\w+)(?: is busy on | has meetings on |'s calendar is blocked on )(.+)\.")
CAL_FREE = re.compile(r"(\w+)(?: is free the entire time| has no meetings the whole time|'s calendar is wide open)\.")
CAL_DAY = re.compile(r"(\w+) during (.+)")
CAL_SPAN = re.compile(rf"{T} to {T}")
CAL_AVOID = re.compile(r"(\w+) (?:would rather not meet|would like to avoid meetings) on (\w+)\.")
CAL_NOT_BEFORE = re.compile(rf"(\w+) (?:cannot meet|is not available) before {T} on (any day|\w+)\.")
CAL_END_BY = re.compile(rf"(\w+) (?:wants the meeting to end by|has to leave by) {T} on (any day|\w+)\.")

ROUTE_HEAD = "You are visiting San Francisco for the day and want to meet as many friends as possible."
ROUTE_TRAVEL_HEAD = "Travel times in minutes (the same in both directions):"
ROUTE_TRAVEL = re.compile(r"(.+?) to (.+?): (\d+) minutes\.")
ROUTE_START = re.compile(rf"You arrive at (.+?) at {T}\.")
ROUTE_FRIEND = re.compile(rf"(\w+) (?:will be|is) at (.+?) from {T} to {T}\. "
                          r"(?:You'd like to meet \1 for a minimum of (\d+) minutes|You want to spend at least (\d+) minutes with \1)\.")

TRIP_HEAD = re.compile(r"You plan to visit (\d+) European (?:city|cities) for (\d+) days in total\. You only take direct "
                       r"flights to commute between cities\. On a day you fly, that day counts for both the city you "
                       r"leave and the city you arrive in\.")
TRIP_STAYS = (  # (pattern, group of the day count, group of the city)
    (re.compile(r"You want to spend (\d+) days in (\w+)\."), 1, 2),
    (re.compile(r"You would like to visit (\w+) for (\d+) days\."), 2, 1),
    (re.compile(r"You plan to stay in (\w+) for (\d+) days\."), 2, 1),
)
TRIP_EVENT = re.compile(r"You want to (.+) in (\w+) (?:between day (\d+) and day (\d+), so you must be in \2 on every day "
                        r"from day \3 to day \4|on day (\d+))\.")
TRIP_FLIGHTS_HEAD = "Here are the cities that have direct flights:"

JOB_HEAD = re.compile(r"A workshop has to process (\d+) jobs?\. Each job is a chain of operations that must run in the "
                      r"order given, each on one resource, without interruption\. Time is counted in hours from the "
                      r"start of the shift \(t=0\)\.")
JOB_RESOURCES = re.compile(r"Resources and how many operations each can run at the same time: (.+)\.")
JOB_RESOURCE = re.compile(r"([a-z]+) (\d+)")
JOB_LINE = re.compile(r"Job ([A-Z]) \((\w+)\): released at t=(\d+), (?:due by t=(\d+)|no deadline)\. (.+)\.")
JOB_OP = re.compile(r"([A-Z]\d+) on ([a-z]+) for (\d+) h")
JOB_PRECEDENCE = re.compile(r"([A-Z]\d+) cannot start before ([A-Z]\d+) has finished\.")


def parse_instruction(subtype: str, text: str) -> dict[str, Any]:
    """The constraints stated by ``text``; ValueError (naming the line) on anything not understood."""
    lines = []
    for line in text.split("\n"):
        if line.startswith("Find "):
            break
        if line.strip():
            lines.append(line)
    else:
        raise ValueError("no closing 'Find ...' request")
    parser = {"calendar_meeting": _calendar, "meeting_route": _route, "trip_itinerary": _trip, "job_shop": _job}.get(subtype)
    if parser is None:
        raise ValueError(f"unknown subtype {subtype!r}")
    return parser(lines)


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    if int(minutes) >= 60 or int(hours) > 24:
        raise ValueError(f"bad time {text!r}")
    return int(hours) * 60 + int(minutes)


def _names(text: str, last: str) -> list[str]:
    return re.split(rf", | {last} ", text)


def _calendar(lines: list[str]) -> dict[str, Any]:
    head = CAL_HEAD.fullmatch(lines[0])
    if head is None or not CAL_SCHEDULES.fullmatch(lines[1]):
        raise ValueError(f"calendar header not understood: {lines[0]!r}")
    names_text, duration_text, ws, we, days_text = head.groups()
    if duration_text in DURATION_WORDS:
        duration = DURATION_WORDS[duration_text]
    elif re.fullmatch(r"\d+ minutes", duration_text):
        duration = int(duration_text.split()[0])
    else:
        raise ValueError(f"meeting length not understood: {duration_text!r}")
    days = _names(days_text.removeprefix("either "), "or")
    participants = _names(names_text, "and")
    busy: dict[str, list[list[Any]]] = {}
    prefs: list[dict[str, Any]] = []
    for line in lines[2:]:
        if m := CAL_FREE.fullmatch(line):
            busy[m[1]] = []
        elif m := CAL_BUSY.fullmatch(line):
            blocks = busy[m[1]] = []
            for part in m[2].split("; on "):
                day = CAL_DAY.fullmatch(part)
                if day is None:
                    raise ValueError(f"busy day not understood: {part!r}")
                for span in day[2].split(", "):
                    s = CAL_SPAN.fullmatch(span)
                    if s is None:
                        raise ValueError(f"busy span not understood: {span!r}")
                    blocks.append([day[1], _minutes(s[1]), _minutes(s[2])])
        elif m := CAL_AVOID.fullmatch(line):
            prefs.append({"person": m[1], "kind": "avoid_day", "day": m[2], "time": None})
        elif m := CAL_NOT_BEFORE.fullmatch(line):
            prefs.append({"person": m[1], "kind": "not_before", "day": None if m[3] == "any day" else m[3],
                          "time": _minutes(m[2])})
        elif m := CAL_END_BY.fullmatch(line):
            prefs.append({"person": m[1], "kind": "end_by", "day": None if m[3] == "any day" else m[3],
                          "time": _minutes(m[2])})
        else:
            raise ValueError(f"calendar line not understood: {line!r}")
    if sorted(busy) != sorted(participants):
        raise ValueError(f"schedules given for {sorted(busy)} but the meeting is for {sorted(participants)}")
    return {"participants": participants, "days": days, "work_hours": [_minutes(ws), _minutes(we)],
            "duration": duration, "busy": busy, "preferences": prefs}


def _route(lines: list[str]) -> dict[str, Any]:
    if lines[:2] != [ROUTE_HEAD, ROUTE_TRAVEL_HEAD]:
        raise ValueError(f"meeting header not understood: {lines[:2]!r}")
    travel: list[list[Any]] = []
    friends: list[dict[str, Any]] = []
    start: dict[str, Any] | None = None
    for line in lines[2:]:
        if line == "CONSTRAINTS:":
            continue
        if m := ROUTE_START.fullmatch(line):
            start = {"location": m[1], "time": _minutes(m[2])}
        elif m := ROUTE_FRIEND.fullmatch(line):
            friends.append({"name": m[1], "location": m[2], "window": [_minutes(m[3]), _minutes(m[4])],
                            "min_minutes": int(m[5] or m[6])})
        elif m := ROUTE_TRAVEL.fullmatch(line):
            travel.append([m[1], m[2], int(m[3])])
        else:
            raise ValueError(f"meeting line not understood: {line!r}")
    if start is None:
        raise ValueError("no starting point ('You arrive at ...')")
    return {"start": start, "travel": travel, "friends": friends}


def _trip(lines: list[str]) -> dict[str, Any]:
    head = TRIP_HEAD.fullmatch(lines[0])
    if head is None:
        raise ValueError(f"trip header not understood: {lines[0]!r}")
    stays: list[list[Any]] = []
    events: list[dict[str, Any]] = []
    flights: list[list[str]] | None = None
    for i, line in enumerate(lines[1:], start=1):
        if line == TRIP_FLIGHTS_HEAD:
            if i + 2 != len(lines):
                raise ValueError("the direct flights must be the last line before the request")
            flights = [] if lines[-1] == "None." else [pair.split(" and ") for pair in lines[-1].removesuffix(".").split(", ")]
            if any(len(pair) != 2 for pair in flights):
                raise ValueError(f"flights not understood: {lines[-1]!r}")
            break
        for pattern, days_at, city_at in TRIP_STAYS:
            if m := pattern.fullmatch(line):
                stays.append([m[city_at], int(m[days_at])])
                break
        else:
            if m := TRIP_EVENT.fullmatch(line):
                first = int(m[3] or m[5])
                events.append({"city": m[2], "what": m[1], "from": first, "to": int(m[4] or m[5])})
            else:
                raise ValueError(f"trip line not understood: {line!r}")
    if flights is None:
        raise ValueError("no list of direct flights")
    if int(head[1]) != len(stays):
        raise ValueError(f"the header announces {head[1]} cities but {len(stays)} stays are given")
    return {"total_days": int(head[2]), "stays": stays, "flights": flights, "events": events}


def _job(lines: list[str]) -> dict[str, Any]:
    head = JOB_HEAD.fullmatch(lines[0])
    resources = JOB_RESOURCES.fullmatch(lines[1]) if len(lines) > 1 else None
    if head is None or resources is None:
        raise ValueError(f"job shop header not understood: {lines[:2]!r}")
    machines: dict[str, int] = {}
    for item in resources[1].split(", "):
        m = JOB_RESOURCE.fullmatch(item)
        if m is None:
            raise ValueError(f"resource not understood: {item!r}")
        machines[m[1]] = int(m[2])
    jobs: list[dict[str, Any]] = []
    precedences: list[list[str]] = []
    for line in lines[2:]:
        if m := JOB_LINE.fullmatch(line):
            ops = []
            for step in m[5].split(", then "):
                op = JOB_OP.fullmatch(step)
                if op is None:
                    raise ValueError(f"operation not understood: {step!r}")
                ops.append({"id": op[1], "machine": op[2], "duration": int(op[3])})
            jobs.append({"name": m[1], "product": m[2], "release": int(m[3]),
                         "deadline": None if m[4] is None else int(m[4]), "ops": ops})
        elif m := JOB_PRECEDENCE.fullmatch(line):
            precedences.append([m[2], m[1]])
        else:
            raise ValueError(f"job shop line not understood: {line!r}")
    if int(head[1]) != len(jobs):
        raise ValueError(f"the header announces {head[1]} jobs but {len(jobs)} are described")
    return {"machines": machines, "jobs": jobs, "precedences": precedences}
