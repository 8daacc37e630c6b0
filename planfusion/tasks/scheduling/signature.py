"""Step counts for the too-easy filter and name-free structural signatures for near-duplicate removal."""

from __future__ import annotations

from typing import Any

from planfusion.tasks.family import Record
from planfusion.tasks.record import canonical_json, sha256_hex

MIN_STEPS = 2


def count_steps(record: Record) -> int:
    """Scheduled items in the reference solution: attendees of the calendar meeting (one calendar entry
    each), meetings on the route, stays on the trip, operations in the job shop. 0 when unreadable."""
    truth = record.get("ground_truth") if isinstance(record, dict) else None
    if not isinstance(truth, dict):
        return 0
    solution = truth.get("solution")
    subtype = record.get("subtype")
    try:
        if subtype == "calendar_meeting":
            return len(truth["constraints"]["participants"])
        if subtype == "meeting_route":
            return len(solution["meetings"])  # type: ignore[index]
        if subtype in ("trip_itinerary", "job_shop"):
            return len(solution)  # type: ignore[arg-type]
    except (KeyError, TypeError):
        return 0
    return 0


def structural_signature(record: Record) -> str:
    """Hash of the problem with people, places, cities, products and machine names erased and the
    listing order canonicalised: two tasks that differ only by renaming or reordering collide."""
    subtype = record["subtype"]
    c = record["ground_truth"]["constraints"]
    shape = SHAPES[subtype](c, record["ground_truth"]["solution"])
    return sha256_hex(canonical_json([subtype, shape]))


def _calendar(c: dict[str, Any], _: Any) -> Any:
    days = c["days"]

    def pos(day: str | None) -> int:
        return -1 if day is None else days.index(day)

    people = sorted(
        [[[pos(d), s, e] for d, s, e in c["busy"][name]],
         sorted([p["kind"], pos(p["day"]), -1 if p["time"] is None else p["time"]]
                for p in c["preferences"] if p["person"] == name)]
        for name in c["participants"]
    )
    return [len(days), c["work_hours"], c["duration"], people]


def _route(c: dict[str, Any], _: Any) -> Any:
    travel = {(a, b): t for a, b, t in c["travel"]} | {(b, a): t for a, b, t in c["travel"]}
    start = c["start"]["location"]
    friends = sorted(c["friends"], key=lambda f: (f["window"], f["min_minutes"], travel[start, f["location"]]))
    places = [start] + [f["location"] for f in friends]
    matrix = [[travel.get((a, b), 0) for b in places] for a in places]
    return [c["start"]["time"], [[f["window"], f["min_minutes"]] for f in friends], matrix]


def _trip(c: dict[str, Any], solution: Any) -> Any:
    order = [s["city"] for s in solution]
    flights = sorted(sorted([order.index(a), order.index(b)]) for a, b in c["flights"])
    events = sorted([order.index(e["city"]), e["from"], e["to"]] for e in c["events"])
    return [c["total_days"], [s["to"] - s["from"] + 1 for s in solution], flights, events]


def _job(c: dict[str, Any], _: Any) -> Any:
    durations: dict[str, list[int]] = {m: [] for m in c["machines"]}
    for job in c["jobs"]:
        for op in job["ops"]:
            durations[op["machine"]].append(op["duration"])
    machines = sorted(c["machines"], key=lambda m: (c["machines"][m], sorted(durations[m])))
    jobs = sorted(c["jobs"], key=lambda j: (j["release"], -1 if j["deadline"] is None else j["deadline"],
                                            [[machines.index(op["machine"]), op["duration"]] for op in j["ops"]]))
    where = {op["id"]: [i, k] for i, job in enumerate(jobs) for k, op in enumerate(job["ops"])}
    return [
        [c["machines"][m] for m in machines],
        [[j["release"], j["deadline"], [[machines.index(op["machine"]), op["duration"]] for op in j["ops"]]] for j in jobs],
        sorted([where[a], where[b]] for a, b in c["precedences"]),
    ]


SHAPES = {"calendar_meeting": _calendar, "meeting_route": _route, "trip_itinerary": _trip, "job_shop": _job}
