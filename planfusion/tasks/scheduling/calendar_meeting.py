"""calendar_meeting: one meeting for several people, the earliest slot that suits everyone.

Planting: pick the slot first, then make every earlier start impossible, day by day, either with
busy blocks that leave only gaps shorter than the meeting or with a preference (avoid a day, not
before / end by a time) that rules out the free time. Later busy blocks and non-binding
preferences add noise; nothing may touch the planted slot. ``solvers.earliest_slot`` must agree.

Steps for the too-easy filter: one per participant (the meeting becomes an entry on each calendar).
"""

from __future__ import annotations

import random
from typing import Any

from planfusion.tasks.scheduling import solvers
from planfusion.tasks.scheduling.instance import Instance, hhmm, join_names
from planfusion.tasks.scheduling.vocab import PEOPLE

SUBTYPE = "calendar_meeting"
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
GRID = 30
WORK_STARTS = (480, 510, 540, 570, 600)
WORK_ENDS = (960, 990, 1020, 1050, 1080)
PEOPLE_RANGE = {1: (2, 3), 2: (2, 4), 3: (3, 5), 4: (3, 6), 5: (4, 7)}
DAYS_RANGE = {1: (1, 1), 2: (1, 2), 3: (1, 3), 4: (2, 4), 5: (3, 5)}
DURATIONS = {1: (30, 60), 2: (30, 60), 3: (30, 60, 90), 4: (30, 60, 90), 5: (60, 90, 120)}
PREF_BLOCK_P = {1: 0.25, 2: 0.35, 3: 0.45, 4: 0.5, 5: 0.55}
DECOYS = {1: 1, 2: 1, 3: 2, 4: 2, 5: 3}
NOISE = {1: 1, 2: 2, 3: 2, 4: 3, 5: 3}
DURATION_WORDS = {30: "half an hour", 60: "one hour", 90: "one and a half hours", 120: "two hours"}
BUSY_LEADS = ("{n} is busy on ", "{n} has meetings on ", "{n}'s calendar is blocked on ")
FREE_LINES = ("{n} is free the entire time.", "{n} has no meetings the whole time.", "{n}'s calendar is wide open.")
PREF_TEXT = {
    "avoid_day": ("{n} would rather not meet on {d}.", "{n} would like to avoid meetings on {d}."),
    "not_before": ("{n} cannot meet before {t} on {d}.", "{n} is not available before {t} on {d}."),
    "end_by": ("{n} wants the meeting to end by {t} on {d}.", "{n} has to leave by {t} on {d}."),
}
Busy = dict[str, list[tuple[str, int, int]]]


def build(rng: random.Random, level: int, minimal: bool = False) -> Instance | None:
    n_people = 1 if minimal else rng.randint(*PEOPLE_RANGE[level])
    n_days = rng.randint(*DAYS_RANGE[level])
    first = rng.randrange(len(WEEKDAYS) - n_days + 1)
    days = list(WEEKDAYS[first:first + n_days])
    ws, we = rng.choice(WORK_STARTS), rng.choice(WORK_ENDS)
    dur = rng.choice(DURATIONS[level])
    names = rng.sample(PEOPLE, n_people)
    k = rng.randrange(n_days)
    s = ws + GRID * rng.randrange((we - dur - ws) // GRID + 1)
    busy: Busy = {name: [] for name in names}
    prefs: list[dict[str, Any]] = []
    pref_p = PREF_BLOCK_P[level]

    def cover(day: str, lo: int, hi: int, end_busy: bool) -> None:
        """Busy blocks over [lo, hi) whose gaps are all shorter than the meeting."""
        gaps = range(0, dur, GRID)
        t = lo
        while t < hi:
            g = rng.choice(gaps)
            if t + g >= hi:
                if not end_busy:
                    return
                g = 0
            t += g
            b = min(rng.choice((30, 60, 90, 120)), hi - t)
            busy[rng.choice(names)].append((day, t, t + b))
            t += b

    def grid_between(lo: int, hi: int) -> int:
        return lo + GRID * rng.randrange((hi - lo) // GRID + 1)

    for day in days[:k]:
        mechanism = rng.choice(("avoid_day", "not_before", "end_by")) if rng.random() < pref_p else "cover"
        if mechanism == "avoid_day":
            prefs.append({"person": rng.choice(names), "kind": "avoid_day", "day": day, "time": None})
        elif mechanism == "not_before":
            t = grid_between(ws + dur, we - GRID)
            prefs.append({"person": rng.choice(names), "kind": "not_before", "day": day, "time": t})
            cover(day, t, we, end_busy=False)
        elif mechanism == "end_by":
            t = grid_between(ws + GRID, we - dur)
            prefs.append({"person": rng.choice(names), "kind": "end_by", "day": day, "time": t})
            cover(day, ws, t, end_busy=False)
        else:
            cover(day, ws, we, end_busy=False)
    lo = ws
    if s >= ws + dur and rng.random() < pref_p:
        lo = grid_between(ws + dur, s)
        prefs.append({"person": rng.choice(names), "kind": "not_before", "day": days[k], "time": lo})
    if s > lo:
        cover(days[k], lo, s, end_busy=True)

    taken = {(p["person"], p["day"]) for p in prefs}
    for _ in range(rng.randint(0, DECOYS[level])):
        decoy = _decoy(rng, names, days, k, s, dur, ws, we)
        if decoy is not None and (decoy["person"], decoy["day"]) not in taken:
            taken.add((decoy["person"], decoy["day"]))
            prefs.append(decoy)
    for name in names:
        for _ in range(rng.randint(0, NOISE[level])):
            day = rng.choice(days)
            a = grid_between(ws, we - GRID)
            b = min(a + rng.choice((30, 60, 90)), we)
            if not (day == days[k] and a < s + dur and b > s):
                busy[name].append((day, a, b))
    rng.shuffle(prefs)
    constraints = {
        "participants": names,
        "days": days,
        "work_hours": [ws, we],
        "duration": dur,
        "busy": {name: _merged(blocks, days) for name, blocks in busy.items()},
        "preferences": prefs,
    }
    if solvers.earliest_slot(constraints) != (days[k], s):
        return None
    solution = {"day": days[k], "start": s, "end": s + dur}
    think, reflected = _think(rng, constraints, solution)
    knobs = {
        "participants": n_people, "days": n_days, "duration": dur, "work_minutes": we - ws,
        "busy_blocks": sum(len(v) for v in constraints["busy"].values()), "preferences": len(prefs),
    }
    return Instance(SUBTYPE, _instruction(rng, constraints), constraints, solution, render_answer(solution),
                    think, knobs, n_people, has_reflection=reflected)


def render_answer(solution: dict[str, Any]) -> str:
    return f"SOLUTION: Here is the proposed time: {solution['day']}, {hhmm(solution['start'])} - {hhmm(solution['end'])}"


def render_conclusion(solution: dict[str, Any]) -> str:
    return f"Conclusion: {solution['day']}, {hhmm(solution['start'])} - {hhmm(solution['end'])}."


def pref_sentence(p: dict[str, Any], variant: int = 0) -> str:
    day = p["day"] if p["day"] is not None else "any day"
    time = hhmm(p["time"]) if p["time"] is not None else ""
    return PREF_TEXT[p["kind"]][variant].format(n=p["person"], d=day, t=time)


def _decoy(rng: random.Random, names: list[str], days: list[str], k: int, s: int, dur: int,
           ws: int, we: int) -> dict[str, Any] | None:
    """A preference that leaves the planted slot (and so every earlier impossibility) intact."""
    person = rng.choice(names)
    kind = rng.choice(("avoid_day", "not_before", "end_by"))
    later = days[k + 1:]
    if kind == "avoid_day":
        return {"person": person, "kind": kind, "day": rng.choice(later), "time": None} if later else None
    day = rng.choice([None, days[k], *later])
    if kind == "not_before":
        top = s if day in (None, days[k]) else we - dur
        return {"person": person, "kind": kind, "day": day, "time": ws + GRID * rng.randint(1, max(1, (top - ws) // GRID))} \
            if top > ws else None
    bottom = s + dur if day in (None, days[k]) else ws + dur
    return {"person": person, "kind": kind, "day": day, "time": bottom + GRID * rng.randrange((we - bottom) // GRID)} \
        if bottom < we else None


def _merged(blocks: list[tuple[str, int, int]], days: list[str]) -> list[list[Any]]:
    out: list[list[Any]] = []
    for day, a, b in sorted(blocks, key=lambda blk: (days.index(blk[0]), blk[1], blk[2])):
        if out and out[-1][0] == day and a <= out[-1][2]:
            out[-1][2] = max(out[-1][2], b)
        else:
            out.append([day, a, b])
    return out


def _instruction(rng: random.Random, c: dict[str, Any]) -> str:
    days = c["days"]
    when = days[0] if len(days) == 1 else "either " + join_names(days, "or")
    dur = c["duration"]
    lines = [
        f"You need to schedule a meeting for {join_names(c['participants'])} for "
        f"{DURATION_WORDS.get(dur, f'{dur} minutes')} between the work hours of {hhmm(c['work_hours'][0])} "
        f"to {hhmm(c['work_hours'][1])} on {when}.",
        "",
        f"Here are the existing schedules for everyone during the {'day' if len(days) == 1 else 'days'}:",
    ]
    for name in c["participants"]:
        blocks = c["busy"][name]
        if not blocks:
            lines.append(rng.choice(FREE_LINES).format(n=name))
            continue
        per_day: dict[str, list[str]] = {}
        for day, a, b in blocks:
            per_day.setdefault(day, []).append(f"{hhmm(a)} to {hhmm(b)}")
        parts = [f"{day} during {', '.join(spans)}" for day, spans in per_day.items()]
        lines.append(rng.choice(BUSY_LEADS).format(n=name) + "; on ".join(parts) + ".")
    if c["preferences"]:
        lines.append("")
        lines.extend(pref_sentence(p, rng.randrange(2)) for p in c["preferences"])
    lines += [
        "",
        "Find the earliest time that works for everyone's schedule and constraints. Give the answer as "
        '"SOLUTION: Here is the proposed time: <Day>, <H:MM> - <H:MM>".',
    ]
    return "\n".join(lines)


def _think(rng: random.Random, c: dict[str, Any], solution: dict[str, Any]) -> tuple[str, bool]:
    """Day-by-day reasoning over the combined busy times, ending in a parseable conclusion."""
    ws, we = c["work_hours"]
    d = c["duration"]
    out = [f"The meeting needs {d} minutes for {join_names(c['participants'])}, between {hhmm(ws)} and {hhmm(we)}, "
           f"on {join_names(c['days'], 'or')}. I go day by day and take the first slot that suits everyone."]
    reflected = False
    for day in c["days"][: c["days"].index(solution["day"]) + 1]:
        prefs = [p for p in c["preferences"] if p["day"] in (None, day)]
        avoid = next((p for p in prefs if p["kind"] == "avoid_day"), None)
        if avoid is not None:
            out.append(f"{day}: {pref_sentence(avoid)[:-1]}, so {day} is out.")
            continue
        union = _merged([(bday, a, b) for blocks in c["busy"].values() for bday, a, b in blocks if bday == day], [day])
        gaps, t = [], ws
        for _, a, b in union:
            if a > t:
                gaps.append((t, a))
            t = max(t, b)
        if t < we:
            gaps.append((t, we))
        busy_text = ", ".join(f"{hhmm(a)}-{hhmm(b)}" for _, a, b in union) or "nothing"
        free_text = ", ".join(f"{hhmm(a)}-{hhmm(b)}" for a, b in gaps) or "none"
        out.append(f"{day}: combined busy times {busy_text}; free gaps {free_text}.")
        starts = [p for p in prefs if p["kind"] == "not_before"]
        ends = [p for p in prefs if p["kind"] == "end_by"]
        lo_p = max(starts, key=lambda p: p["time"], default=None)
        hi_p = min(ends, key=lambda p: p["time"], default=None)
        lo = max(ws, lo_p["time"]) if lo_p else ws
        for a, b in gaps:
            if b - a < d:
                continue
            if day == solution["day"] and a <= solution["start"] < b:
                if solution["start"] == a:
                    out.append(f"The gap {hhmm(a)}-{hhmm(b)} holds the {d} minutes.")
                else:
                    out.append(f"The gap {hhmm(a)}-{hhmm(b)} is free, but {pref_sentence(lo_p)[:-1]}, "  # type: ignore[arg-type]
                               f"so the meeting starts at {hhmm(solution['start'])}.")
                break
            # a long enough gap before the answer can only be ruled out by a preference
            blocker = lo_p if lo_p is not None and max(a, lo) + d > b else hi_p
            reason = pref_sentence(blocker)[:-1]  # type: ignore[arg-type]
            if not reflected and rng.random() < 0.5:
                out.append(f"Tentatively {day}, {hhmm(a)} - {hhmm(a + d)}. Wait, {reason}, so that slot does not work.")
                reflected = True
            else:
                out.append(f"The gap {hhmm(a)}-{hhmm(b)} is long enough, but {reason}.")
        else:
            out.append(f"No free gap on {day} can hold {d} minutes within everyone's limits.")
    start = solution["start"]
    out.append(f"The earliest slot that works is {solution['day']} from {hhmm(start)} to {hhmm(start + d)}.")
    out.append(render_conclusion(solution))
    return "\n".join(out), reflected
