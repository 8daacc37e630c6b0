"""Seeded record generation for the scheduling family: params, subtype dispatch, record assembly.

Sample ``index`` of a stream is built from ``random.Random(derive_seed(master_seed, index, ...))``
alone, so any record can be rebuilt on its own, in any order or process. Subtypes rotate with the
index (balanced mixes); the level is drawn per sample within ``params["levels"]``, and a job_shop
sample draws whether its optimum must lie above the stated lower bound (``above_bound_share``). A
builder that cannot confirm its planted solution returns None and is retried with the same RNG stream.
"""

from __future__ import annotations

import random
from typing import Any, Callable, Iterator

from planfusion.tasks.family import Record
from planfusion.tasks.record import build_record, derive_seed
from planfusion.tasks.scheduling import calendar_meeting, job_shop, meeting_route, trip_itinerary
from planfusion.tasks.scheduling.instance import Instance

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
SUBTYPES: tuple[str, ...] = tuple(BUILDERS)
DEFAULT_PARAMS: dict[str, Any] = {
    "subtypes": list(SUBTYPES),    # one name or a list; rotated with the index (balanced mix)
    "levels": [1, 5],              # [low, high]: each record's level is drawn in this range
    "above_bound_share": 0.75,     # job_shop: share of records drawn to need an optimum above the lower
                                   # bound the reasoning states; the rest are left alone (about a fifth of
                                   # those land above it anyway); 0 turns it off
}
MAX_ATTEMPTS = 200
SYSTEM_PROMPT = ("You are a careful planning assistant. Reason step by step about every constraint, "
                 "then give the final answer exactly in the requested format.")


def normalize_params(params: dict[str, Any] | None) -> dict[str, Any]:
    """Defaults filled in and checked; "subtypes" may be one name or a list of names."""
    merged = {**DEFAULT_PARAMS, **(params or {})}
    unknown = sorted(set(merged) - set(DEFAULT_PARAMS))
    if unknown:
        raise ValueError(f"scheduling params: unknown key(s) {unknown}; expected {sorted(DEFAULT_PARAMS)}")
    subtypes = merged["subtypes"]
    if isinstance(subtypes, str):
        subtypes = [subtypes]
    if not isinstance(subtypes, list) or not subtypes or any(s not in BUILDERS for s in subtypes):
        raise ValueError(f"scheduling params: 'subtypes' must be a non-empty list drawn from {list(SUBTYPES)}, "
                         f"got {merged['subtypes']!r}")
    if len(set(subtypes)) != len(subtypes):
        raise ValueError(f"scheduling params: 'subtypes' has duplicates: {subtypes!r}")
    levels = merged["levels"]
    if (not isinstance(levels, list) or len(levels) != 2 or not all(type(v) is int for v in levels)
            or not 1 <= levels[0] <= levels[1] <= 5):
        raise ValueError(f"scheduling params: 'levels' must be [low, high] with 1 <= low <= high <= 5, got {levels!r}")
    share = merged["above_bound_share"]
    if type(share) not in (int, float) or not 0 <= share <= 1:
        raise ValueError(f"scheduling params: 'above_bound_share' must be a number in [0, 1], got {share!r}")
    return {"subtypes": list(subtypes), "levels": list(levels), "above_bound_share": float(share)}


def generate_one(master_seed: int, index: int, params: dict[str, Any] | None = None) -> Record:
    return _generate(master_seed, index, normalize_params(params))


def generate(n: int, seed: int, params: dict[str, Any] | None = None, start: int = 0) -> Iterator[Record]:
    """Records start..start+n-1, lazily; bad arguments fail here, not at the first ``next``."""
    if n < 0 or start < 0:
        raise ValueError(f"scheduling generate: n and start must be >= 0, got n={n}, start={start}")
    normalized = normalize_params(params)
    return (_generate(seed, index, normalized) for index in range(start, start + n))


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


def _generate(master_seed: int, index: int, params: dict[str, Any]) -> Record:
    seed = derive_seed(master_seed, index, GENERATOR, VERSION)
    rng = random.Random(seed)
    subtype = params["subtypes"][index % len(params["subtypes"])]
    level = rng.randint(*params["levels"])
    instance = build_instance(subtype, rng, level, **_options(subtype, rng, params))
    lineage = {"master_seed": master_seed, "index": index, "seed": seed, "params": params}
    return assemble(instance, level, lineage)


def _options(subtype: str, rng: random.Random, params: dict[str, Any]) -> dict[str, Any]:
    """Drawn once per record, outside the builder's retries, so rejections cannot skew the share."""
    if subtype == job_shop.SUBTYPE:
        return {"above_bound": rng.random() < params["above_bound_share"]}
    return {}
