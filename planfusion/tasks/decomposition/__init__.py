"""Hierarchical task decomposition, WorfBench-compatible: the ``decomposition`` task family.

A goal is given with a catalogue of typed actions (some unneeded) and some ordering notes; the answer
is the workflow graph "Node:\\n1: ...\\nEdge: (START,1) ... (n,END)". See library.py for the action
model, draft.py for sampling, verifier.py for the independent checks, perturbations.py for negatives.
"""

from __future__ import annotations

import copy

from planfusion.tasks.decomposition.contradiction import contradiction
from planfusion.tasks.decomposition.generator import GENERATOR, VERSION, generate, generate_one
from planfusion.tasks.decomposition.params import DEFAULT_PARAMS, SUBTYPES
from planfusion.tasks.decomposition.perturbations import PERTURBATIONS
from planfusion.tasks.decomposition.signature import count_steps, structural_signature
from planfusion.tasks.decomposition.verifier import verify

# A workflow of fewer than three actions needs no decomposition (a single step, or one step feeding another);
# three is also the shortest chain the generator builds, so clean records never fall under it.
MIN_STEPS = 3


class DecompositionFamily:
    """The family object the pipeline sees; every method is a pure function of its arguments."""

    name = "decomposition"
    generator = GENERATOR
    version = VERSION
    subtypes = SUBTYPES
    default_params = copy.deepcopy(DEFAULT_PARAMS)
    min_steps = MIN_STEPS
    perturbations = PERTURBATIONS
    generate_one = staticmethod(generate_one)
    generate = staticmethod(generate)
    verify = staticmethod(verify)
    count_steps = staticmethod(count_steps)
    structural_signature = staticmethod(structural_signature)
    contradiction = staticmethod(contradiction)


FAMILY = DecompositionFamily()

__all__ = ["FAMILY", "DecompositionFamily"]
