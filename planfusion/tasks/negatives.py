"""Seeded negatives: perturbed copies of clean records, so curation has something realistic to catch."""

from __future__ import annotations

import random

from planfusion.tasks.family import Perturbation, Record, TaskFamily
from planfusion.tasks.record import derive_seed


def negative(family: TaskFamily, record: Record, seed: int, perturbation: Perturbation) -> Record | None:
    """The record perturbed by one kind, or None when the kind does not apply to it.

    Each (seed, index, kind) gets its own RNG, so a negative is as reproducible as its clean parent and
    does not depend on which other kinds ran.
    """
    stream = f"{family.generator}:negative:{perturbation.kind}"
    rng = random.Random(derive_seed(seed, record["lineage"]["index"], stream, family.version))
    return perturbation.apply(record, rng)


def turn_negative(family: TaskFamily, record: Record, seed: int, turn: int) -> Record | None:
    """The negative of the ``turn``-th sampled clean record (one per ``negatives_every``): kind ``turn`` in
    rotation, so a run shows each way a record can go wrong, or the next kind that applies (None when none
    does). Taken record by record, so a stream of clean records never has to be held."""
    kinds = family.perturbations
    for offset in range(len(kinds)):
        made = negative(family, record, seed, kinds[(turn + offset) % len(kinds)])
        if made is not None:
            return made
    return None
