"""Hierarchical task decomposition, WorfBench-compatible: the ``decomposition`` task family.

A goal is given with a catalogue of typed actions (some unneeded) and some ordering notes; the answer
is the workflow graph "Node:\\n1: ...\\nEdge: (START,1) ... (n,END)". See library.py for the action
model, draft.py for sampling, verifier.py for the independent checks, perturbations.py for negatives;
the modules every family has are listed in ``planfusion.tasks.family.TEMPLATE``.
"""

from __future__ import annotations

from planfusion.tasks.family import family_from_package

FAMILY = family_from_package(__name__)

__all__ = ["FAMILY"]
