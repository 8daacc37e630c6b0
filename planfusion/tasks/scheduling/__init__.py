"""scheduling: multi-constraint scheduling tasks in the NATURAL PLAN style plus resource scheduling.

Four subtypes (calendar_meeting, meeting_route, trip_itinerary, job_shop). Each builder plants a
solution, adds constraints around it and has an exact solver confirm it is the earliest / optimal /
unique one; the instruction round-trips to the constraints through ``instruction_parser``; the
verifier replays the parsed answer against the constraints without touching generator code.
"""

from __future__ import annotations

from typing import Any, Iterator

from planfusion.tasks.family import Perturbation, Record, Verdict
from planfusion.tasks.scheduling import contradiction as _contradiction
from planfusion.tasks.scheduling import generator as _generator
from planfusion.tasks.scheduling import perturbations, signature, verifier


class SchedulingFamily:
    """The ``TaskFamily`` object for scheduling; a thin facade over the modules of this package."""

    name = _generator.FAMILY
    generator = _generator.GENERATOR
    version = _generator.VERSION
    subtypes: tuple[str, ...] = _generator.SUBTYPES
    default_params: dict[str, Any] = _generator.DEFAULT_PARAMS
    min_steps = signature.MIN_STEPS
    perturbations: tuple[Perturbation, ...] = perturbations.PERTURBATIONS

    def generate_one(self, master_seed: int, index: int, params: dict[str, Any] | None = None) -> Record:
        return _generator.generate_one(master_seed, index, params)

    def generate(self, n: int, seed: int, params: dict[str, Any] | None = None, start: int = 0) -> Iterator[Record]:
        return _generator.generate(n, seed, params, start)

    def verify(self, record: Record) -> Verdict:
        return verifier.verify(record)

    def count_steps(self, record: Record) -> int:
        return signature.count_steps(record)

    def structural_signature(self, record: Record) -> str:
        return signature.structural_signature(record)

    def contradiction(self, record: Record) -> str | None:
        return _contradiction.contradiction(record)


FAMILY = SchedulingFamily()

__all__ = ["FAMILY", "SchedulingFamily"]
