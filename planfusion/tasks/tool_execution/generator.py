"""Seeded construction of one clean record: world, multi-turn goal program, execution, trajectory, envelope."""

from __future__ import annotations

import itertools
import random
from typing import Any, Iterator

from planfusion.tasks.record import build_record, derive_seed
from planfusion.tasks.tool_execution.env import TOOLS, apply_changes, copy_state, tool_schemas
from planfusion.tasks.tool_execution.params import resolve_params
from planfusion.tasks.tool_execution.scenarios import cross, templates_for
from planfusion.tasks.tool_execution.scenarios.session import Piece, Session, Template, min_calls
from planfusion.tasks.tool_execution.scenarios.worlds import CONVENTIONS, WORLDS, people
from planfusion.tasks.tool_execution.trajectory import render

FAMILY = "tool_execution"
GENERATOR = "planfusion.tool_execution"
VERSION = "2"


def generate_one(master_seed: int, index: int, params: dict[str, Any] | None = None) -> dict[str, Any]:
    return generate_resolved(master_seed, index, resolve_params(params))


def generate_resolved(master_seed: int, index: int, full: dict[str, Any]) -> dict[str, Any]:
    """``generate_one`` for params already checked by ``resolve_params`` (a stream checks them once)."""
    seed = derive_seed(master_seed, index, GENERATOR, VERSION)
    subtype = full["subtypes"][index % len(full["subtypes"])]
    return build(seed, subtype, full, master_seed=master_seed, index=index, params=full)


def build(seed: int, subtype: str, knobs: dict[str, Any], *, master_seed: int, index: int, params: dict[str, Any],
          parent_id: str | None = None, perturbation: str | None = None) -> dict[str, Any]:
    """The record for ``seed``; ``knobs`` drive construction, ``params`` is what lineage records
    (they differ only for a negative rebuilt with other knobs)."""
    rng = random.Random(seed)
    backends = [subtype] if subtype != "cross_backend" else sorted(rng.sample(sorted(WORLDS), rng.randint(2, 3)))
    names = people(rng, 6)
    initial = {b: WORLDS[b](rng, names) for b in backends}
    if subtype == "cross_backend":
        cross.plant(initial, rng)

    target = rng.randint(knobs["min_calls"], knobs["max_calls"])
    n_turns = rng.randint(knobs["min_turns"], min(knobs["max_turns"], target))
    goals = sorted(rng.sample(range(1, target), n_turns - 1)) + [target]
    n_errors = rng.randint(1, knobs["max_errors"]) if knobs["max_errors"] and rng.random() < knobs["error_rate"] else 0
    session = Session(initial, rng, sorted(rng.sample(range(target), min(n_errors, target))), names)
    linking, main, fillers = templates_for(backends)
    turns: list[list[Piece]] = []
    kinds: list[list[dict[str, Any]]] = []  # per turn, which template and wording made each request
    changes: list[list[dict[str, Any]]] = []
    before = copy_state(initial)  # the end state of the previous turn
    uses: dict[str, int] = {}  # template name -> pieces made with it in this record
    for t, goal in enumerate(goals):
        session.turn = t
        pieces: list[Piece] = []
        kinds.append([])
        this_turn: set[str] = set()
        while len(session.calls) < goal or not pieces:
            room = knobs["max_calls"] - len(session.calls) - (n_turns - 1 - t)
            session.budget = min(room, max(goal - len(session.calls), 1) + 2)
            link = len(backends) > 1 and len({TOOLS[c.name].backend for c in session.calls}) < 2
            piece, kind = _next_piece(session, (linking, main, fillers), uses, this_turn, link)
            pieces.append(piece)
            kinds[-1].append({"kind": kind, "wording": session.wording})
        turns.append(pieces)
        changes.append(state_changes(before, session.state))
        apply_changes(before, changes[-1])  # copies only what changed, unlike a fresh snapshot

    requests = [_join_requests(rng, [p.request for p in pieces]) for pieces in turns]
    system = (f"You are an operations assistant with tools for {', '.join(backends)}. Carry out each user request "
              "with tool calls, use values from earlier results instead of guessing, and report what was asked. "
              + " ".join(CONVENTIONS[b] for b in backends))
    trajectory = render(system, requests, turns, session.steps, session.calls, session.outputs)
    answer = trajectory[-1]["content"]
    instruction = "\n".join(f"Turn {t + 1}: {r}" for t, r in enumerate(requests))
    calls = session.calls
    ground_truth = {
        "initial_state": initial,  # hidden: a solver discovers the world through its tools
        # the reference calls get their own arguments: editing the trajectory's calls must not edit them
        "turns": [{"calls": [{"name": c.name, "arguments": copy_state(c.arguments), "depends_on": c.depends_on}
                             for c in calls if c.turn == t], "state_changes": changes[t], "requests": kinds[t]}
                  for t in range(n_turns)],
        "required_outputs": session.outputs,
    }
    n_injected = sum(step.error is not None for step in session.steps)
    depth = _dependency_depth(calls)
    parallel = sum(len(step.refs) > 1 for step in session.steps)
    knob_values = {"calls": len(calls), "turns": n_turns, "backends": len(backends), "injected_errors": n_injected,
                   "dependency_depth": depth, "parallel_steps": parallel, "target_calls": target}
    flags = [flag for flag, on in (("cross_turn_reference", any(calls[d].turn < c.turn for c in calls for d in c.depends_on)),
                                   ("error_recovery", n_injected > 0), ("multi_backend", len(backends) > 1),
                                   ("parallel_calls", parallel > 0)) if on]
    return build_record(
        family=FAMILY, subtype=subtype,
        task={"instruction": instruction, "backends": backends, "tools": tool_schemas(backends)},
        ground_truth=ground_truth, trajectory=trajectory, answer=answer,
        difficulty={"level": _level(len(calls), n_turns, len(backends), n_injected, depth), "knobs": knob_values},
        quality={"n_steps": len(calls), "n_tool_calls": len(calls) + n_injected, "n_errors_recovered": n_injected,
                 "has_reflection": n_injected > 0, "format_ok": True, "answer_correct": True, "flags": flags},
        generator=GENERATOR, version=VERSION, master_seed=master_seed, index=index, seed=seed, params=params,
        text=instruction + "\n\n" + answer + "\nCalls: " + " > ".join(c.name for c in calls),
        parent_id=parent_id, perturbation=perturbation,
    )


def state_changes(before: Any, after: Any, path: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """What turns ``before`` into ``after`` (see env.changes): objects are compared key by key, grown lists
    get an append, anything else is replaced whole. Values are copies, so ``after`` may keep changing."""
    if before == after:
        return []
    if isinstance(before, list) and isinstance(after, list) and after[:len(before)] == before:
        return [{"op": "append", "path": list(path), "values": copy_state(after[len(before):])}]
    if not (isinstance(before, dict) and isinstance(after, dict)):
        return [{"op": "set", "path": list(path), "value": copy_state(after)}]
    ops = [{"op": "remove", "path": [*path, key]} for key in before if key not in after]
    for key, value in after.items():
        if key not in before:
            ops.append({"op": "set", "path": [*path, key], "value": copy_state(value)})
        elif before[key] != value:
            ops.extend(state_changes(before[key], value, (*path, key)))
    return ops


def _next_piece(session: Session, templates: tuple[list[Template], list[Template], list[Template]],
                uses: dict[str, int], this_turn: set[str], link: bool) -> tuple[Piece, str]:
    """A goal template (and its name) that fits the budget and applies to the current state, not yet used in
    this turn and at most twice in the record (a user rarely asks the same thing over and over); fillers
    last. ``link``: the calls so far touch fewer than two of the world's backends, so cross-backend
    templates go first."""
    linking, main, fillers = templates
    mark = session.mark()
    fresh = (t for t in _candidates(session.rng, linking, main, fillers, link)
             if t.__name__ not in this_turn and uses.get(t.__name__, 0) < 2 and min_calls(t) <= session.budget)
    for template in itertools.chain(fresh, fillers):
        piece = template(session)
        if piece is not None and len(session.calls) == mark[0]:
            session.rollback(mark)  # every call it needed repeated the last one: no progress, try another
        elif piece is not None:
            uses[template.__name__] = uses.get(template.__name__, 0) + 1
            this_turn.add(template.__name__)
            return piece, template.__name__
        elif len(session.calls) != mark[0]:
            raise RuntimeError(f"template {template.__name__} declined after making calls")
    raise RuntimeError(f"no goal template fits a budget of {session.budget} calls")


def _candidates(rng: random.Random, linking: list[Template], main: list[Template],
                fillers: list[Template], link: bool) -> Iterator[Template]:
    """Cross-backend templates first while the program has not linked two backends yet (that is the point
    of a multi-backend world), else half the time one of them; then a few random picks (one usually
    applies), every template once, and the fillers."""
    if link:
        yield from rng.sample(linking, len(linking))
    elif linking and rng.random() < 0.5:
        yield rng.choice(linking)
    for _ in range(3):
        yield rng.choice(main)
    yield from rng.sample(main, len(main))
    yield from rng.sample(fillers, len(fillers))


_HEADERS = ("Please do the following:", "A few things for you:", "I need these done:", "Here is my list for now:",
            "Several requests:")


def _join_requests(rng: random.Random, requests: list[str]) -> str:
    """One user message from several requests: run-on text, or a numbered or bulleted list under a header."""
    if len(requests) == 1:
        return requests[0]
    style = rng.randrange(3)
    if style == 0:
        return " ".join(requests)
    items = (f"{i}. {r}" if style == 1 else f"- {r}" for i, r in enumerate(requests, 1))
    return rng.choice(_HEADERS) + "\n" + "\n".join(items)


def _dependency_depth(calls: list[Any]) -> int:
    depth: list[int] = []
    for call in calls:
        depth.append(1 + max((depth[d] for d in call.depends_on), default=0))
    return max(depth, default=0)


def _level(n_calls: int, n_turns: int, n_backends: int, n_errors: int, depth: int) -> int:
    """1..5 from program length mostly, nudged up by turns, backends, injected errors and dependency depth."""
    points = (n_calls - 5) / 7 + (n_turns - 2) * 0.25 + (n_backends - 1) * 0.5 + n_errors * 0.25 + max(depth - 3, 0) * 0.25
    return max(1, min(5, 1 + int(points)))
