"""Seeded negatives: perturbed copies of clean records, so curation has something realistic to catch."""

from __future__ import annotations

import random
from typing import Iterator

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


def sampled_negatives(family: TaskFamily, records: list[Record], seed: int, every: int) -> Iterator[Record]:
    """One negative for every ``every``-th clean record (none when every is 0), the kinds taken in turn
    so a run shows each way a record can go wrong; a kind that does not apply yields to the next."""
    if every < 0:
        raise ValueError(f"negatives_every must be >= 0, got {every}")
    if every == 0 or not family.perturbations:
        return
    kinds = family.perturbations
    for turn, record in enumerate(records[::every]):
        for offset in range(len(kinds)):
            made = negative(family, record, seed, kinds[(turn + offset) % len(kinds)])
            if made is not None:
                yield made
                break
