"""Synthetic planning tasks: three families with seeded generators, independent verifiers,
negatives (perturbations) and the quality filters that curate them."""

from __future__ import annotations

import importlib

from planfusion.tasks.family import Perturbation, Record, TaskFamily, Verdict
from planfusion.tasks.record import FAMILIES

__all__ = ["FAMILIES", "Perturbation", "Record", "TaskFamily", "Verdict", "get_family"]


def get_family(name: str) -> TaskFamily:
    """The family object for ``name``; a clear error for an unknown family."""
    if name not in FAMILIES:
        raise ValueError(f"unknown family {name!r}; expected one of {', '.join(FAMILIES)}")
    return importlib.import_module(f"planfusion.tasks.{name}").FAMILY
