"""trip_itinerary: visit every city for its stay length using direct flights only (NATURAL PLAN trip planning).

Planting: pick the city order and stay lengths (a flight day counts for both cities), link consecutive
cities by direct flights, add extra flights and fixed-day events. An event binds every one of its
days (the instruction says so: "you must be in X on every day from day a to day b"), not just one.
``solvers.trip_itineraries`` then looks for a second itinerary the stated constraints allow; while one
exists, an event pinning the first city where the two differ is added, or an extra flight the rival
relies on is removed, until the plan is unique.

Steps for the too-easy filter: the stays.
"""

from __future__ import annotations

import random
from typing import Any

from planfusion.tasks.scheduling import solvers
from planfusion.tasks.scheduling.instance import Instance, join_names
from planfusion.tasks.scheduling.vocab import CITIES, EVENTS

SUBTYPE = "trip_itinerary"
CITY_RANGE = {1: (3, 3), 2: (3, 4), 3: (4, 4), 4: (4, 5), 5: (5, 6)}
MAX_STAY = {1: 5, 2: 5, 3: 6, 4: 7, 5: 7}
EXTRA_FLIGHT_P = {1: 0.2, 2: 0.3, 3: 0.35, 4: 0.4, 5: 0.45}
FIXES = 10
STAY_LINES = ("You want to spend {n} days in {c}.", "You would like to visit {c} for {n} days.",
              "You plan to stay in {c} for {n} days.")


def build(rng: random.Random, level: int, minimal: bool = False) -> Instance | None:
    n = 1 if minimal else rng.randint(*CITY_RANGE[level])
    gold = rng.sample(CITIES, n)
    stays = {city: rng.randint(2, MAX_STAY[level]) for city in gold}
    ranges: dict[str, tuple[int, int]] = {}
    day = 1
    for city in gold:
        ranges[city] = (day, day + stays[city] - 1)
        day += stays[city] - 1
    flights = {frozenset(pair) for pair in zip(gold, gold[1:])}
    for i, a in enumerate(gold):
        for b in gold[i + 2:]:
            if rng.random() < EXTRA_FLIGHT_P[level]:
                flights.add(frozenset((a, b)))
    events: dict[str, list[dict[str, Any]]] = {city: [] for city in gold}

    def pin(city: str) -> None:
        first, last = ranges[city]
        length = rng.randint(1, last - first + 1)
        a = rng.randint(first, last - length + 1)
        events[city].append({"city": city, "what": rng.choice(EVENTS), "from": a, "to": a + length - 1})

    for city in rng.sample(gold, rng.randint(0, min(2, n))):
        pin(city)
    listing = rng.sample(gold, n)
    constraints: dict[str, Any] = {}
    for _ in range(FIXES):
        constraints = _constraints(rng, listing, stays, flights, events, ranges[gold[-1]][1])
        orders = [[city for city, _, _ in plan] for plan in solvers.trip_itineraries(constraints, limit=2)]
        if orders == [gold]:
            break
        rival = next(order for order in orders if order != gold)
        pos = next(i for i, (x, y) in enumerate(zip(gold, rival)) if x != y)
        used = {frozenset(pair) for pair in zip(rival, rival[1:])} - {frozenset(pair) for pair in zip(gold, gold[1:])}
        if used & flights and rng.random() < 0.5:
            flights.discard(min(used & flights, key=sorted))
        else:
            pin(gold[pos])
    else:
        return None
    solution = [{"city": city, "from": ranges[city][0], "to": ranges[city][1]} for city in gold]
    knobs = {"cities": n, "total_days": constraints["total_days"], "flights": len(flights),
             "events": len(constraints["events"])}
    return Instance(SUBTYPE, _instruction(rng, constraints), constraints, solution, render_answer(solution),
                    _think(constraints, solution), knobs, n)


def render_answer(solution: list[dict[str, Any]]) -> str:
    lines = ["SOLUTION:"]
    for prev, stay in zip([None, *solution], solution):
        if prev is not None:
            lines.append(f"Day {stay['from']}: fly from {prev['city']} to {stay['city']}")
        lines.append(f"Day {stay['from']}-{stay['to']}: {stay['city']}")
    return "\n".join(lines)


def render_conclusion(solution: list[dict[str, Any]]) -> str:
    return "Conclusion: " + ", ".join(f"{s['city']} days {s['from']}-{s['to']}" for s in solution) + "."


def _constraints(rng: random.Random, listing: list[str], stays: dict[str, int], flights: set[frozenset[str]],
                 events: dict[str, list[dict[str, Any]]], total: int) -> dict[str, Any]:
    """Constraints in the order the instruction states them (cities in listing order, not trip order)."""
    pairs = sorted(sorted(pair, key=listing.index) for pair in flights)
    rng.shuffle(pairs)
    return {
        "total_days": total,
        "stays": [[city, stays[city]] for city in listing],
        "flights": pairs,
        "events": [e for city in listing for e in events[city]],
    }


def _instruction(rng: random.Random, c: dict[str, Any]) -> str:
    n = len(c["stays"])
    lines = [f"You plan to visit {n} European {'city' if n == 1 else 'cities'} for {c['total_days']} days in total. "
             "You only take direct flights to commute between cities. On a day you fly, that day counts for both "
             "the city you leave and the city you arrive in."]
    for city, days in c["stays"]:
        lines.append(rng.choice(STAY_LINES).format(n=days, c=city))
        lines += [_event_line(e) for e in c["events"] if e["city"] == city]
    lines.append("Here are the cities that have direct flights:")
    lines.append(", ".join(f"{a} and {b}" for a, b in c["flights"]) + "." if c["flights"] else "None.")
    lines += ["", f"Find a trip plan of visiting the cities for {c['total_days']} days by taking direct flights to "
              'commute between them. Answer with "SOLUTION:" followed by one line per stay, '
              '"Day <first>-<last>: <city>", with a line "Day <day>: fly from <city> to <city>" between consecutive stays.']
    return "\n".join(lines)


def _event_line(e: dict[str, Any]) -> str:
    """A multi-day event says that it binds every one of its days: read as "the stay only has to overlap
    the event", about a quarter of the trips would have several valid orders."""
    if e["from"] == e["to"]:
        return f"You want to {e['what']} in {e['city']} on day {e['from']}."
    return (f"You want to {e['what']} in {e['city']} between day {e['from']} and day {e['to']}, so you must be in "
            f"{e['city']} on every day from day {e['from']} to day {e['to']}.")


def _day_count(n: int, total: int, total_days: int) -> str:
    """How the stays add up to the trip, worded for one city, one flight day or several."""
    if n == 1:
        return f"1 city in {total_days} days: the one stay is the whole trip."
    flights = "the flight day counts" if n == 2 else f"the {n - 1} flight days count"
    return f"{n} cities in {total_days} days: the stays add up to {total} days and {flights} twice, which gives {total_days}."


def _think(c: dict[str, Any], solution: list[dict[str, Any]]) -> str:
    n = len(c["stays"])
    total = sum(days for _, days in c["stays"])
    links: dict[str, list[str]] = {city: [] for city, _ in c["stays"]}
    for a, b in c["flights"]:
        links[a].append(b)
        links[b].append(a)
    out = [_day_count(n, total, c["total_days"])]
    if n > 1:
        out.append("Direct flights: " + "; ".join(f"{city} to {join_names(sorted(links[city]), 'or') or 'nowhere'}"
                                                   for city, _ in c["stays"]) + ".")
    for e in c["events"]:
        days = f"day {e['from']}" if e["from"] == e["to"] else f"days {e['from']}-{e['to']}"
        out.append(f"To {e['what']} in {e['city']} on {days}, the stay there must cover {days}.")
    out.append("Chaining the stays along direct flights so that every fixed date falls inside its city's stay:")
    for prev, stay in zip([None, *solution], solution):
        hop = f"fly {prev['city']} -> {stay['city']} on day {stay['from']}, " if prev else ""
        out.append(f"{hop}{stay['city']} days {stay['from']}-{stay['to']}.")
    out.append("Every hop is a direct flight, every stay has its length and every event is covered; "
               "no other order of the cities manages all of that.")
    out.append(render_conclusion(solution))
    return "\n".join(out)
