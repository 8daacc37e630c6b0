"""meeting_route: meet as many friends as possible across town (NATURAL PLAN meeting planning).

Planting: place locations on a grid (travel = 5 + 3 x Manhattan distance, so direct travel is never
beaten by a detour), walk a planted route of k friends and give each a window around the planted
meeting; then add decoy friends whose windows sit on top of a planted meeting. Every decoy is
kept only if ``solvers.max_meetings`` still says k is the most anyone can meet.

Steps for the too-easy filter: the meetings in the optimal plan.
"""

from __future__ import annotations

import random
from typing import Any

from planfusion.tasks.scheduling import solvers
from planfusion.tasks.scheduling.instance import Instance, hhmm, join_names
from planfusion.tasks.scheduling.vocab import LOCATIONS, PEOPLE

SUBTYPE = "meeting_route"
FRIENDS = {1: (2, 3), 2: (3, 3), 3: (3, 4), 4: (4, 5), 5: (5, 6)}
DECOY_TRIES = 3
LAST_END = 22 * 60  # every window closes by 22:00, so all times stay within the day
MEET_LINES = (
    "{n} will be at {l} from {a} to {b}. You'd like to meet {n} for a minimum of {m} minutes.",
    "{n} is at {l} from {a} to {b}. You want to spend at least {m} minutes with {n}.",
)


def build(rng: random.Random, level: int, minimal: bool = False) -> Instance | None:
    n = 1 if minimal else rng.randint(*FRIENDS[level])
    k = 1 if minimal else rng.randint(max(2, n - 2), n)
    names = rng.sample(PEOPLE, n)
    locs = rng.sample(LOCATIONS, n + 1)
    spots = {loc: (rng.randrange(9), rng.randrange(9)) for loc in locs}

    def travel(a: str, b: str) -> int:
        (x1, y1), (x2, y2) = spots[a], spots[b]
        return 5 + 3 * (abs(x1 - x2) + abs(y1 - y2))

    start, t0 = locs[0], 480 + 15 * rng.randrange(9)
    here, now = start, t0
    friends: list[dict[str, Any]] = []
    plan: list[dict[str, Any]] = []
    for name, loc in zip(names[:k], locs[1:k + 1]):
        minutes = travel(here, loc)
        arrive = now + minutes
        ws = _ceil15(arrive) + rng.choice((-60, -30, -15, 0, 0, 0, 15, 30, 45))
        begin = max(arrive, ws)
        need = 15 * rng.randint(1, 8)
        we = _ceil15(begin + need) + rng.choice((0, 0, 15, 30, 45, 60, 90))
        friends.append({"name": name, "location": loc, "window": [ws, we], "min_minutes": need})
        plan.append({"friend": name, "location": loc, "travel": minutes, "arrive": arrive,
                     "start": begin, "end": begin + need})
        here, now = loc, begin + need
    if max(f["window"][1] for f in friends) > LAST_END:
        return None
    travel_list = [[a, b, travel(a, b)] for i, a in enumerate(locs) for b in locs[i + 1:]]
    rng.shuffle(travel_list)
    constraints: dict[str, Any] = {"start": {"location": start, "time": t0}, "travel": travel_list, "friends": friends}
    for name, loc in zip(names[k:], locs[k + 1:]):
        for _ in range(DECOY_TRIES):
            target = rng.choice(plan)
            ws = _floor15(target["start"]) - rng.choice((0, 15, 30))
            we = _ceil15(target["end"]) + rng.choice((0, 15, 30))
            need = max(15, we - ws - rng.choice((0, 15, 30)))
            constraints["friends"] = friends + [{"name": name, "location": loc, "window": [ws, we], "min_minutes": need}]
            if solvers.max_meetings(constraints) == k:
                friends = constraints["friends"]
                break
        constraints["friends"] = friends
    if (len(friends) < 2 and not minimal) or solvers.max_meetings(constraints) != k:
        return None
    friends = list(friends)
    rng.shuffle(friends)
    constraints["friends"] = friends
    solution = {"start": {"location": start, "time": t0}, "meetings": plan}
    knobs = {"friends": len(friends), "optimum": k, "decoys": len(friends) - k, "locations": len(friends) + 1,
             "max_travel": max(t for _, _, t in travel_list) if travel_list else 0}
    return Instance(SUBTYPE, _instruction(rng, constraints), constraints, solution, render_answer(solution),
                    _think(constraints, solution), knobs, k, extra_truth={"optimum": k})


def render_answer(solution: dict[str, Any]) -> str:
    """NATURAL PLAN style lines; a meeting whose "travel" is None gets no travel line (perturbations)."""
    lines = ["SOLUTION:", f"You start at {solution['start']['location']} at {hhmm(solution['start']['time'])}."]
    for m in solution["meetings"]:
        if m["travel"] is not None:
            lines.append(f"You travel to {m['location']} in {m['travel']} minutes and arrive at {hhmm(m['arrive'])}.")
            if m["start"] > m["arrive"]:
                lines.append(f"You wait until {hhmm(m['start'])}.")
        lines.append(f"You meet {m['friend']} for {m['end'] - m['start']} minutes from {hhmm(m['start'])} to {hhmm(m['end'])}.")
    return "\n".join(lines)


def render_conclusion(solution: dict[str, Any]) -> str:
    met = solution["meetings"]
    spans = ", ".join(f"{m['friend']} {hhmm(m['start'])}-{hhmm(m['end'])}" for m in met)
    return f"Conclusion: meet {len(met)} friend{'s' if len(met) != 1 else ''}: {spans}."


def _ceil15(t: int) -> int:
    return -(-t // 15) * 15


def _floor15(t: int) -> int:
    return t // 15 * 15


def _instruction(rng: random.Random, c: dict[str, Any]) -> str:
    lines = ["You are visiting San Francisco for the day and want to meet as many friends as possible.",
             "Travel times in minutes (the same in both directions):"]
    lines += [f"{a} to {b}: {t} minutes." for a, b, t in c["travel"]]
    lines += ["", "CONSTRAINTS:", f"You arrive at {c['start']['location']} at {hhmm(c['start']['time'])}."]
    for f in c["friends"]:
        lines.append(rng.choice(MEET_LINES).format(n=f["name"], l=f["location"], a=hhmm(f["window"][0]),
                                                   b=hhmm(f["window"][1]), m=f["min_minutes"]))
    lines += ["", "Find the schedule that meets the largest number of friends. Answer with \"SOLUTION:\" followed by "
              "one line per step, each of the form:",
              "You start at <location> at <H:MM>.",
              "You travel to <location> in <N> minutes and arrive at <H:MM>.",
              "You wait until <H:MM>.",
              "You meet <name> for <N> minutes from <H:MM> to <H:MM>."]
    return "\n".join(lines)


def _think(c: dict[str, Any], solution: dict[str, Any]) -> str:
    travel = {(a, b): t for a, b, t in c["travel"]} | {(b, a): t for a, b, t in c["travel"]}
    start = c["start"]["location"]
    met = {m["friend"] for m in solution["meetings"]}
    out = [f"I start at {start} at {hhmm(c['start']['time'])} and want as many friends as possible, each for at "
           f"least their minimum inside their window. The friends:"]
    for f in c["friends"]:
        out.append(f"- {f['name']} at {f['location']}, {hhmm(f['window'][0])}-{hhmm(f['window'][1])}, "
                   f"{f['min_minutes']} min, {travel[start, f['location']]} min from the start.")
    out.append("I order the meetings by when they can happen and check travel plus waiting at each step:")
    for m in solution["meetings"]:
        wait = f", wait until {hhmm(m['start'])}" if m["start"] > m["arrive"] else ""
        out.append(f"go to {m['location']} ({m['travel']} min), arrive {hhmm(m['arrive'])}{wait}, meet {m['friend']} "
                   f"{hhmm(m['start'])}-{hhmm(m['end'])}.")
    skipped = [f["name"] for f in c["friends"] if f["name"] not in met]
    if skipped:
        out.append(f"Fitting {join_names(skipped)} as well always breaks another window once travel is counted, "
                   f"so {len(met)} meetings is the most possible.")
    else:
        out.append({1: "That meets the one friend.", 2: "That meets both friends."}.get(
            len(met), f"That meets all {len(met)} friends."))
    out.append(render_conclusion(solution))
    return "\n".join(out)
