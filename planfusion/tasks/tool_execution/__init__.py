"""tool_execution: long-horizon tool use over a deterministic multi-backend simulator (BFCL v3 multi-turn /
tau-bench style). ``FAMILY`` is the TaskFamily object.

Layout: ``env/`` the simulator and tool schemas (shared with the verifier: it is the world), ``scenarios/``
worlds and goal templates (generator only), ``generator`` and ``trajectory`` build records,
``verifier`` replays them independently, ``signals`` serves the shared filters, ``perturbations`` makes negatives,
``coherence`` finds requests that undo earlier ones, ``variety`` measures how varied a batch is.
"""

from __future__ import annotations

from typing import Any, Iterator

from planfusion.tasks.family import Perturbation, Record, Verdict
from planfusion.tasks.tool_execution import generator as _generator
from planfusion.tasks.tool_execution import signals, verifier
from planfusion.tasks.tool_execution.params import DEFAULT_PARAMS, SUBTYPES, resolve_params
from planfusion.tasks.tool_execution.perturbations import PERTURBATIONS


class ToolExecutionFamily:
    name = _generator.FAMILY
    generator = _generator.GENERATOR
    version = _generator.VERSION
    subtypes: tuple[str, ...] = SUBTYPES
    default_params: dict[str, Any] = DEFAULT_PARAMS
    min_steps = 5
    perturbations: tuple[Perturbation, ...] = PERTURBATIONS

    def generate_one(self, master_seed: int, index: int, params: dict[str, Any] | None = None) -> Record:
        return _generator.generate_one(master_seed, index, params)

    def generate(self, n: int, seed: int, params: dict[str, Any] | None = None, start: int = 0) -> Iterator[Record]:
        if n < 0 or start < 0:
            raise ValueError(f"tool_execution.generate: n and start must be >= 0, got n={n}, start={start}")
        full = resolve_params(params)  # checked now, not at the first next()
        return (_generator.generate_resolved(seed, index, full) for index in range(start, start + n))

    def verify(self, record: Record) -> Verdict:
        return verifier.verify(record)

    def count_steps(self, record: Record) -> int:
        return signals.count_steps(record)

    def structural_signature(self, record: Record) -> str:
        return signals.structural_signature(record)

    def contradiction(self, record: Record) -> str | None:
        return signals.contradiction(record)


FAMILY = ToolExecutionFamily()
