"""Clean records: draw a draft, derive its gold workflow, render texts, stamp the record envelope.

Everything random comes from ``random.Random(derive_seed(master_seed, index, GENERATOR, VERSION))``,
consumed in a fixed order, so a record depends only on (version, master seed, index, params).
"""

from __future__ import annotations

import random
from typing import Any

from planfusion.tasks.decomposition.draft import Draft, draw
from planfusion.tasks.decomposition.gold import build_gold
from planfusion.tasks.decomposition.params import resolve_params
from planfusion.tasks.decomposition.render import (
    SYSTEM_PROMPT,
    instruction_text,
    join_words,
    think_text,
    workflow_text,
)
from planfusion.tasks.family import Record
from planfusion.tasks.record import build_record, derive_seed

FAMILY = "decomposition"
GENERATOR = "planfusion.decomposition"
VERSION = "2"


def generate_one(master_seed: int, index: int, params: dict[str, Any] | None = None) -> Record:
    return generate_resolved(master_seed, index, resolve_params(params))


def generate_resolved(master_seed: int, index: int, params: dict[str, Any]) -> Record:
    """``generate_one`` for params already checked by ``resolve_params`` (a stream checks them once)."""
    seed = derive_seed(master_seed, index, GENERATOR, VERSION)
    rng = random.Random(seed)
    return assemble(draw(rng, params), rng, master_seed, index, seed, params)


def assemble(draft: Draft, rng: random.Random, master_seed: int, index: int, seed: int, params: dict[str, Any],
             parent_id: str | None = None, perturbation: str | None = None) -> Record:
    """The record for a draft (perturbations call it with a modified draft and their parent's lineage)."""
    domain, binding = draft.domain, draft.binding
    gold = build_gold(draft)
    number = {step: k + 1 for k, step in enumerate(gold.order)}

    shared = {**binding, "items": join_words(draft.items)}
    slots = {item: {**shared, "item": item} for item in (None, *draft.items, *(d.item for d in draft.distractors))}

    def fill(template: str, item: str | None) -> str:
        return template.format_map(slots[item])

    def name(artifact: str, item: str | None) -> str:
        return fill(domain.artifact[artifact].name, item)

    steps = draft.steps
    outputs = [name(s.action.output, s.item) for s in steps]
    texts = [fill(s.action.text, s.item) for s in steps]
    nodes = [texts[i] for i in gold.order]
    needs = [[(outputs[p], number[p]) for p in sorted(steps[i].inputs, key=number.get)] for i in gold.order]
    offered = [{"action": texts[i], "needs": [art for art, _ in wanted], "produces": outputs[i]}
               for wanted, i in zip(needs, gold.order)]
    distractors = [fill(d.action.text, d.item) for d in draft.distractors]
    offered += [{"action": text, "produces": name(d.action.output, d.item),
                 "needs": [name(k, scope) for k in d.action.needs for scope in domain.scopes(k, d.item, draft.items)]}
                for text, d in zip(distractors, draft.distractors)]
    rng.shuffle(offered)
    notes = [[nodes[u - 1], nodes[v - 1]] for u, v in _explicit(gold.edges, draft.implicit_ratio, rng)]

    deliverables = [outputs[g] for g in draft.goals]
    goals: list[str] = []
    for g in draft.goals:
        phrase = domain.artifact[steps[g].action.output].goal
        goals.append(fill(phrase, None) if phrase else f"produce the {outputs[g]}")
    context = fill(rng.choice(domain.contexts), None)
    parts = [group["title"] for group in gold.subgoals] if draft.levels > 1 else []
    instruction = instruction_text(rng, context, goals, parts, offered, notes)
    answer = workflow_text(nodes, gold.edges)
    think = think_text(rng, goals, deliverables, gold.subgoals, nodes, needs, gold.implied, distractors, answer)

    implicit = 1 - len(notes) / len(gold.edges) if gold.edges else 1.0
    knobs = {"nodes": len(nodes), "edges": len(gold.edges), "depth": gold.depth, "width": gold.width,
             "joins": gold.joins, "items": len(draft.items), "hierarchy_levels": draft.levels,
             "distractors": len(distractors), "implicit_ratio": round(implicit, 3)}
    return build_record(
        family=FAMILY,
        subtype=draft.subtype,
        task={"instruction": instruction, "domain": domain.key, "goals": goals, "goal_artifacts": deliverables,
              "actions": offered, "ordering_notes": notes},
        ground_truth={"nodes": nodes, "edges": [list(e) for e in gold.edges],
                      "kinds": [f"{domain.key}.{steps[i].action.key}" for i in gold.order],
                      "subgoals": gold.subgoals,
                      "distractor_kinds": [f"{domain.key}.{d.action.key}" for d in draft.distractors]},
        trajectory=[{"role": "system", "content": SYSTEM_PROMPT},
                    {"role": "user", "content": instruction},
                    {"role": "assistant", "content": answer, "think": think}],
        answer=answer,
        difficulty={"level": _difficulty_level(knobs), "knobs": knobs},
        quality={"n_steps": len(nodes), "n_tool_calls": 0, "n_errors_recovered": 0, "has_reflection": False,
                 "format_ok": True, "answer_correct": True, "flags": []},
        generator=GENERATOR,
        version=VERSION,
        master_seed=master_seed,
        index=index,
        seed=seed,
        params=params,
        text=instruction + "\n\n" + answer,
        parent_id=parent_id,
        perturbation=perturbation,
    )


def _explicit(edges: tuple[tuple[int, int], ...], implicit_ratio: float,
              rng: random.Random) -> list[tuple[int, int]]:
    """The gold edges the instruction may state as ordering notes, in random order.

    A fixed count per record, rounded down, rather than a coin per edge: a record never states more than
    ``1 - implicit_ratio`` of its edges, and every other edge reaches the solver only through artifacts.
    """
    count = int((1 - implicit_ratio) * len(edges) + 1e-9)
    return rng.sample(edges, count)


def _difficulty_level(knobs: dict[str, Any]) -> int:
    """1..5 from size, joins, distractors, hidden dependencies and sub-goal depth (size weighs most)."""
    score = (0.4 * (knobs["nodes"] - 3) / 22 + 0.15 * min(knobs["joins"], 6) / 6
             + 0.15 * min(knobs["distractors"], 8) / 8 + 0.15 * knobs["implicit_ratio"]
             + 0.15 * (knobs["hierarchy_levels"] - 1) / 2)
    return 1 + min(4, int(score * 5))
