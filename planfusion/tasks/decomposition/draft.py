"""Sampling a task before it is rendered: domain, entities, goal artifacts, and the back-chained steps.

Back-chaining starts from the goal artifacts and picks a producer for every artifact instance that is
still missing, so each instance has exactly one producer and the gold workflow is implied by the goal.
Non-linear tasks are redrawn until their size and shape fit the params (about 1.2 draws with the
defaults); linear ones are built to an exact length from the library's single-input chains.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from planfusion.tasks.decomposition.domains import DOMAINS
from planfusion.tasks.decomposition.library import Action, Domain
from planfusion.tasks.decomposition.params import linear_options

ATTEMPTS = 200          # draws per domain for a non-linear task before trying another domain
SPARE_ITEMS = 2         # items outside the task that distractors may mention


@dataclass(frozen=True)
class Step:
    action: Action
    item: str | None
    inputs: tuple[int, ...] = ()   # indices of the steps whose outputs it consumes (every producer->consumer edge)


@dataclass(frozen=True)
class Draft:
    domain: Domain
    subtype: str
    binding: dict[str, str]          # slot -> value
    items: tuple[str, ...]           # the task's items, in mention order
    steps: tuple[Step, ...]          # producers before consumers
    goals: tuple[int, ...]           # steps whose outputs are the deliverables
    distractors: tuple[Step, ...]    # offered but not needed
    levels: int                      # sub-goal levels shown in the reasoning
    implicit_ratio: float            # least share of gold edges stated only through artifacts


class _TooBig(Exception):
    """A draw outgrew the node budget; abandoned early to keep generation fast."""


def draw(rng: random.Random, params: dict[str, Any]) -> Draft:
    subtype = rng.choice(params["subtypes"])
    low = params["min_nodes"]
    longest = min(params["max_nodes"], params["max_depth"])  # a chain's length is its depth
    domains = [DOMAINS[key] for key in params["domains"]]
    if subtype == "linear":
        domains = [d for d in domains if linear_options(d, low, longest)]
    first = rng.choice(domains)
    for domain in (first, *domains):  # the others only when the params rule out the drawn domain
        binding = {slot: rng.choice(values) for slot, values in domain.slots.items()}
        if subtype == "linear":
            goal, length = rng.choice(linear_options(domain, low, longest))
            items: tuple[str, ...] = (rng.choice(domain.items),)
            steps: list[Step] = []
            _chain(domain, goal, length, items[0], steps, rng)
            goals: tuple[int, ...] = (len(steps) - 1,)
            levels = 1
            break
        found = _branching(domain, subtype, params, rng)
        if found is not None:
            items, steps, goals = found
            levels = rng.randint(2, params["max_levels"]) if subtype == "hierarchical" else 1
            break
    else:
        raise ValueError(f"no {subtype} workflow of {low}-{params['max_nodes']} nodes and depth <= "
                         f"{params['max_depth']} found in domains {params['domains']}; widen the params")
    distractors = _distractors(domain, items, steps, rng, rng.randint(params["min_distractors"],
                                                                    params["max_distractors"]))
    ratio = rng.uniform(params["min_implicit_ratio"], params["max_implicit_ratio"])
    return Draft(domain, subtype, binding, items, tuple(steps), goals, distractors, levels, ratio)


def _chain(domain: Domain, artifact: str, length: int, item: str, steps: list[Step], rng: random.Random) -> int:
    """Append a single-input producer chain of exactly ``length`` steps ending in ``artifact``."""
    options = [a for a in domain.producers[artifact]
               if (not a.needs and length == 1)
               or (len(a.needs) == 1 and length - 1 in domain.chain_lengths[a.needs[0]])]
    action = rng.choice(options)
    inputs = (_chain(domain, action.needs[0], length - 1, item, steps, rng),) if action.needs else ()
    steps.append(Step(action, item if domain.is_per_item(action) else None, inputs))
    return len(steps) - 1


def _branching(domain: Domain, subtype: str, params: dict[str, Any],
               rng: random.Random) -> tuple[tuple[str, ...], list[Step], tuple[int, ...]] | None:
    """The first draw (items, deliverables, producers, optional inputs) whose size and shape fit."""
    low, high = params["min_nodes"], params["max_nodes"]
    min_items = 2 if subtype == "hierarchical" else 1
    for _ in range(ATTEMPTS):
        items = tuple(rng.sample(domain.items, rng.randint(min_items, params["max_items"])))
        wanted = rng.sample(domain.goals, rng.choice((1, 1, 2)))
        steps: list[Step] = []
        made: dict[tuple[str, str | None], int] = {}
        try:
            goals = tuple(_produce(domain, key, None, items, steps, made, rng, params["optional_input_rate"], high)
                          for key in wanted)
        except _TooBig:
            continue
        if len(steps) >= low and _shape_ok(subtype, steps, params["max_depth"]):
            return items, steps, goals
    return None


def _produce(domain: Domain, artifact: str, item: str | None, items: tuple[str, ...], steps: list[Step],
             made: dict[tuple[str, str | None], int], rng: random.Random, optional_rate: float, budget: int) -> int:
    """Index of the step producing this artifact instance, back-chaining its inputs first if new."""
    if (artifact, item) in made:
        return made[(artifact, item)]
    action = rng.choice(domain.producers[artifact])
    chosen = action.needs + tuple(k for k in action.optional if rng.random() < optional_rate)
    inputs: list[int] = []
    for need in chosen:
        for scope in domain.scopes(need, item, items):
            inputs.append(_produce(domain, need, scope, items, steps, made, rng, optional_rate, budget))
    if len(steps) >= budget:
        raise _TooBig
    steps.append(Step(action, item, tuple(sorted(inputs))))
    made[(artifact, item)] = len(steps) - 1
    return len(steps) - 1


def _shape_ok(subtype: str, steps: list[Step], max_depth: int) -> bool:
    """Connected steps, no path longer than ``max_depth``; parallel tasks are not a chain, hierarchical
    ones span two items or more.

    A DAG is a chain exactly when each longest-path layer holds a single step (redundant edges do not
    change the layers), so "parallel" asks for a layer of two or more.
    """
    consumed = {i for step in steps for i in step.inputs}
    if any(not step.inputs and i not in consumed for i, step in enumerate(steps)):
        return False
    layer: list[int] = []
    for step in steps:
        layer.append(1 + max((layer[p] for p in step.inputs), default=0))
    if max(layer) > max_depth:
        return False
    if subtype == "hierarchical":
        return len({step.item for step in steps if step.item is not None}) >= 2
    return len(set(layer)) < len(layer)


def _distractors(domain: Domain, items: tuple[str, ...], steps: list[Step], rng: random.Random,
                 count: int) -> tuple[Step, ...]:
    """Actions whose outputs the goal never needs: other producers, unused artifacts, items outside the task."""
    taken = {(step.action.output, step.item) for step in steps}
    spare = [i for i in domain.items if i not in items]
    pool_items = items + tuple(rng.sample(spare, min(SPARE_ITEMS, len(spare))))
    candidates = [(action, item) for action in domain.actions
                  for item in (pool_items if domain.is_per_item(action) else (None,))
                  if (action.output, item) not in taken]
    chosen: list[Step] = []
    for action, item in rng.sample(candidates, min(len(candidates), 3 * count)):
        if len(chosen) < count and (action.output, item) not in taken:  # one producer per artifact
            taken.add((action.output, item))
            chosen.append(Step(action, item))
    return tuple(chosen)
