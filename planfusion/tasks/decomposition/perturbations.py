"""Negatives: realistic wrong or low-quality variants of a clean record, each meant for one check.

Answer edits rewrite the answer and the plan at the end of the reasoning together (a consistently
wrong solver), so only the intended check fires and the contradiction filter stays quiet; the
``contradiction`` kind edits only the reasoning. ``too_few_steps`` rebuilds the record around a
workflow truncated to one or two steps: correct, but trivial.
"""

from __future__ import annotations

import copy
import random
from typing import Any, Callable

from planfusion.tasks.decomposition.draft import Draft, Step, draw
from planfusion.tasks.decomposition.generator import GENERATOR, VERSION, assemble
from planfusion.tasks.decomposition.params import resolve_params
from planfusion.tasks.decomposition.render import workflow_text
from planfusion.tasks.family import Perturbation, Record
from planfusion.tasks.record import restamp

Edges = list[tuple[int, int]]
Plan = tuple[list[str], Edges]
_INVENTED = ("Double-check the {0}", "Get sign-off on the {0}", "Back up the {0}", "Send the {0} for review")


def _gold(record: Record) -> Plan:
    truth = record["ground_truth"]
    return list(truth["nodes"]), [(a, b) for a, b in truth["edges"]]


def _derive(record: Record, kind: str) -> Record:
    new = copy.deepcopy(record)
    new["id"] = f"{record['id']}~{kind}"
    new["lineage"]["parent_id"] = record["id"]
    new["lineage"]["perturbation"] = kind
    return new


def _with_plan(record: Record, kind: str, plan: Plan, *, answer: bool = True, think: bool = True) -> Record:
    """A negative whose answer and/or reasoning now state ``plan``."""
    new = _derive(record, kind)
    text = workflow_text(*plan)
    final = new["trajectory"][-1]
    if think:
        final["think"] = final["think"][:final["think"].rindex("Node:")] + text
    if answer:
        final["content"] = new["answer"] = text
        new["text"] = new["task"]["instruction"] + "\n\n" + text
        new["quality"]["n_steps"] = len(plan[0])
    return restamp(new)


def _insert(plan: Plan, at: int, text: str, preds: list[int], succs: list[int]) -> Plan:
    """Plan with a new node numbered ``at`` (1-based); ``preds``/``succs`` use the old numbering."""
    nodes, edges = plan

    def shift(v: int) -> int:
        return v + 1 if v >= at else v

    moved = [(shift(a), shift(b)) for a, b in edges]
    moved += [(shift(p), at) for p in preds] + [(at, shift(s)) for s in succs]
    return nodes[:at - 1] + [text] + nodes[at - 1:], moved


def _remove(plan: Plan, v: int) -> Plan:
    """Plan without node ``v``; its predecessors now lead straight to its successors."""
    nodes, edges = plan
    preds = [a for a, b in edges if b == v]
    succs = [b for a, b in edges if a == v]
    kept = [(a, b) for a, b in edges if v not in (a, b)] + [(p, s) for p in preds for s in succs]

    def shift(x: int) -> int:
        return x - 1 if x > v else x

    return nodes[:v - 1] + nodes[v:], sorted({(shift(a), shift(b)) for a, b in kept})


def _neighbours(plan: Plan, v: int) -> tuple[list[int], list[int]]:
    return [a for a, b in plan[1] if b == v], [b for a, b in plan[1] if a == v]


def dropped_dependency(record: Record, rng: random.Random) -> Record | None:
    nodes, edges = _gold(record)
    if not edges:
        return None
    edges.remove(rng.choice(edges))
    return _with_plan(record, "dropped_dependency", (nodes, edges))


def reversed_dependency(record: Record, rng: random.Random) -> Record | None:
    nodes, edges = _gold(record)
    if not edges:
        return None
    a, b = edges.pop(rng.randrange(len(edges)))
    return _with_plan(record, "reversed_dependency", (nodes, edges + [(b, a)]))


def cycle(record: Record, rng: random.Random) -> Record | None:
    """A later step is also made a prerequisite of an earlier one it depends on."""
    nodes, edges = _gold(record)
    if not edges:
        return None
    start, end = rng.choice(edges)
    for _ in range(rng.randrange(3)):
        onward = [b for a, b in edges if a == end]
        if not onward:
            break
        end = rng.choice(onward)
    return _with_plan(record, "cycle", (nodes, edges + [(end, start)]))


def hallucinated_node(record: Record, rng: random.Random) -> Record | None:
    """An invented check-up step on some step's output, wired in right after it."""
    plan = _gold(record)
    offered = {a["action"].casefold() for a in record["task"]["actions"]}
    produces = {a["action"]: a["produces"] for a in record["task"]["actions"]}
    v = rng.randrange(1, len(plan[0]) + 1)
    text = rng.choice(_INVENTED).format(produces[plan[0][v - 1]])
    if text.casefold() in offered:
        return None
    return _with_plan(record, "hallucinated_node", _insert(plan, v + 1, text, [v], _neighbours(plan, v)[1]))


def distractor_node(record: Record, rng: random.Random) -> Record | None:
    """An offered action the goal does not need, done anyway after some step."""
    plan = _gold(record)
    unneeded = sorted({a["action"] for a in record["task"]["actions"]} - set(plan[0]))
    if not unneeded:
        return None
    v = rng.randrange(1, len(plan[0]) + 1)
    return _with_plan(record, "distractor_node", _insert(plan, v + 1, rng.choice(unneeded), [v], []))


def missing_node(record: Record, rng: random.Random) -> Record | None:
    plan = _gold(record)
    return _with_plan(record, "missing_node", _remove(plan, rng.randrange(1, len(plan[0]) + 1)))


def duplicated_node(record: Record, rng: random.Random) -> Record | None:
    plan = _gold(record)
    v = rng.randrange(1, len(plan[0]) + 1)
    return _with_plan(record, "duplicated_node", _insert(plan, v + 1, plan[0][v - 1], *_neighbours(plan, v)))


def broken_format(record: Record, rng: random.Random) -> Record | None:
    """The right plan, written so that it cannot be parsed."""
    nodes, edges = _gold(record)
    text = workflow_text(nodes, edges)
    head, _, edge_line = text.rpartition("\n")
    variant = rng.randrange(3)
    if variant == 0:
        broken = head
    elif variant == 1:
        broken = head + "\n" + edge_line.replace(",", " ->")
    else:
        broken = "\n".join(["Node:"] + [f"- {t}" for t in nodes] + [edge_line])
    new = _derive(record, "broken_format")
    new["trajectory"][-1]["content"] = new["answer"] = broken
    new["text"] = new["task"]["instruction"] + "\n\n" + broken
    return restamp(new)


def contradiction(record: Record, rng: random.Random) -> Record | None:
    """The reasoning ends on a plan that skips a step; the answer stays correct."""
    plan = _gold(record)
    return _with_plan(record, "contradiction", _remove(plan, rng.randrange(1, len(plan[0]) + 1)), answer=False)


def too_few_steps(record: Record, rng: random.Random) -> Record | None:
    """The same task cut down to a source step and one step that only needs it: correct, but trivial."""
    lineage = record["lineage"]
    if lineage.get("generator") != GENERATOR or lineage.get("generator_version") != VERSION:
        return None
    params = resolve_params(lineage["params"])
    draft = draw(random.Random(lineage["seed"]), params)
    steps = draft.steps
    pairs = [(s.inputs[0], i) for i, s in enumerate(steps) if len(s.inputs) == 1 and not steps[s.inputs[0]].inputs]
    first, then = rng.choice(pairs) if pairs else (next(i for i, s in enumerate(steps) if not s.inputs), None)
    kept = [Step(steps[first].action, steps[first].item)]
    if then is not None:
        kept.append(Step(steps[then].action, steps[then].item, (0,)))
    small = Draft(draft.domain, draft.subtype, draft.binding, draft.items, tuple(kept), (len(kept) - 1,),
                  draft.distractors, 1, draft.implicit_ratio)
    return assemble(small, rng, lineage["master_seed"], lineage["index"], lineage["seed"], params,
                    parent_id=record["id"], perturbation="too_few_steps")


_KINDS: tuple[tuple[str, str, Callable[[Record, Any], Record | None]], ...] = (
    ("dropped_dependency", "dependency_violated", dropped_dependency),
    ("reversed_dependency", "dependency_violated", reversed_dependency),
    ("cycle", "cycle", cycle),
    ("hallucinated_node", "hallucinated_node", hallucinated_node),
    ("distractor_node", "extra_node", distractor_node),
    ("missing_node", "missing_node", missing_node),
    ("duplicated_node", "duplicate_node", duplicated_node),
    ("broken_format", "broken_format", broken_format),
    ("too_few_steps", "too_easy", too_few_steps),
    ("contradiction", "contradiction", contradiction),
)
PERTURBATIONS: tuple[Perturbation, ...] = tuple(Perturbation(kind, caught_by, apply)
                                                for kind, caught_by, apply in _KINDS)
