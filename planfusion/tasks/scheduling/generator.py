"""Seeded record generation for the scheduling family: subtype dispatch and record assembly.

Sample ``index`` of a stream is built from ``random.Random(derive_seed(master_seed, index, ...))``
alone, so any record can be rebuilt on its own, in any order or process. Subtypes rotate with the
index (balanced mixes); the level is drawn per sample within ``params["levels"]``, and a job_shop
sample draws whether its optimum must lie above the stated lower bound (``above_bound_share``). A
builder that cannot confirm its planted solution returns None and is retried with the same RNG stream.
"""

from __future__ import annotations

import random
from typing import Any, Callable

from planfusion.tasks.family import Record
from planfusion.tasks.record import build_record, derive_seed
from planfusion.tasks.scheduling import calendar_meeting, job_shop, meeting_route, trip_itinerary
from planfusion.tasks.scheduling.instance import Instance
from planfusion.tasks.scheduling.params import resolve_params

FAMILY = "scheduling"
GENERATOR = "planfusion.scheduling"
VERSION = "2"
Builder = Callable[..., "Instance | None"]  # (rng, level, minimal, **subtype options)
BUILDERS: dict[str, Builder] = {
    calendar_meeting.SUBTYPE: calendar_meeting.build,
    meeting_route.SUBTYPE: meeting_route.build,
    trip_itinerary.SUBTYPE: trip_itinerary.build,
    job_shop.SUBTYPE: job_shop.build,
}
MAX_ATTEMPTS = 200
SYSTEM_PROMPT = ("You are a careful planning assistant. Reason step by step about every constraint, "
                 "then give the final answer exactly in the requested format.")


def generate_one(master_seed: int, index: int, params: dict[str, Any] | None = None) -> Record:
    return generate_resolved(master_seed, index, resolve_params(params))


def generate_resolved(master_seed: int, index: int, params: dict[str, Any]) -> Record:
    """``generate_one`` for params already checked by ``resolve_params`` (a stream checks them once)."""
    seed = derive_seed(master_seed, index, GENERATOR, VERSION)
    rng = random.Random(seed)
    subtype = params["subtypes"][index % len(params["subtypes"])]
    level = rng.randint(*params["levels"])
    instance = build_instance(subtype, rng, level, **_options(subtype, rng, params))
    lineage = {"master_seed": master_seed, "index": index, "seed": seed, "params": params}
    return assemble(instance, level, lineage)


def build_instance(subtype: str, rng: random.Random, level: int, minimal: bool = False, **options: Any) -> Instance:
    """The first instance the builder confirms; ``options`` go to the builder (job_shop: above_bound)."""
    for _ in range(MAX_ATTEMPTS):
        instance = BUILDERS[subtype](rng, level, minimal, **options)
        if instance is not None:
            return instance
    raise RuntimeError(f"scheduling: {subtype} level {level} found no confirmed instance in {MAX_ATTEMPTS} attempts")


def assemble(instance: Instance, level: int, lineage: dict[str, Any], parent_id: str | None = None,
             perturbation: str | None = None) -> Record:
    """The record envelope around a built instance; ``lineage`` gives master_seed, index, seed, params."""
    answer = instance.answer
    trajectory = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": instance.instruction},
        {"role": "assistant", "content": answer, "think": instance.think},
    ]
    quality = {
        "n_steps": instance.n_steps, "n_tool_calls": 0, "n_errors_recovered": 0,
        "has_reflection": instance.has_reflection, "format_ok": True, "answer_correct": True,
        "flags": ["reflection"] if instance.has_reflection else [],
    }
    return build_record(
        family=FAMILY, subtype=instance.subtype, task={"instruction": instance.instruction},
        ground_truth={"constraints": instance.constraints, "solution": instance.solution, **instance.extra_truth},
        trajectory=trajectory, answer=answer, difficulty={"level": level, "knobs": instance.knobs},
        quality=quality, generator=GENERATOR, version=VERSION, master_seed=lineage["master_seed"],
        index=lineage["index"], seed=lineage["seed"], params=lineage["params"],
        text=f"{instance.instruction}\n\n{answer}", parent_id=parent_id, perturbation=perturbation,
    )


def _options(subtype: str, rng: random.Random, params: dict[str, Any]) -> dict[str, Any]:
    """Drawn once per record, outside the builder's retries, so rejections cannot skew the share."""
    if subtype == job_shop.SUBTYPE:
        return {"above_bound": rng.random() < params["above_bound_share"]}
    return {}
