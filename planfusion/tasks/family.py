"""The contract every task family module fulfils, so filters, CLI and pipeline treat families alike.

Each family lives in ``planfusion/tasks/<family>/`` (a package) and exposes, in its ``__init__``,
a module-level object ``FAMILY`` that satisfies :class:`TaskFamily`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Protocol

Record = dict[str, Any]


@dataclass(frozen=True)
class Verdict:
    """What an independent verifier concluded about one record.

    ``violations`` are (check, detail) pairs; check names are short snake_case identifiers that are
    stable (tests and filter reasons refer to them), e.g. ("missing_node", "node 'fetch_data' absent").
    """

    passed: bool
    violations: tuple[tuple[str, str], ...] = ()
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def first_check(self) -> str | None:
        return self.violations[0][0] if self.violations else None


@dataclass(frozen=True)
class Perturbation:
    """A way to turn a clean record into a realistic wrong or low-quality one.

    ``caught_by`` names what must reject it: a verifier check name (e.g. "cycle"), or one of the
    filter reasons "too_easy", "loop", "contradiction".
    ``apply(record, rng)`` returns a NEW record (deep copy), built with ``record.build_record`` or
    ``record.restamp`` so its lineage has parent_id = the clean id and perturbation = the kind;
    it may return None when the kind does not apply to that record (e.g. no busy block to move into).
    """

    kind: str
    caught_by: str
    apply: Callable[[Record, Any], Record | None]


class TaskFamily(Protocol):
    name: str            # "decomposition" | "scheduling" | "tool_execution"
    generator: str       # generator name recorded in lineage, e.g. "planfusion.decomposition"
    version: str         # generator version; bump it whenever output for a seed changes
    subtypes: tuple[str, ...]
    default_params: dict[str, Any]
    min_steps: int       # too-easy threshold on count_steps(record)
    perturbations: tuple[Perturbation, ...]

    def generate_one(self, master_seed: int, index: int, params: dict[str, Any] | None = None) -> Record:
        """One clean record; depends only on (version, master_seed, index, params)."""

    def generate(self, n: int, seed: int, params: dict[str, Any] | None = None, start: int = 0) -> Iterator[Record]:
        """Records start..start+n-1 of the stream for this master seed."""

    def verify(self, record: Record) -> Verdict:
        """Check the record's trajectory/answer against its task and ground truth only, independently of
        the generator's code paths; never raises on bad content (a malformed answer is a violation)."""

    def count_steps(self, record: Record) -> int:
        """Steps for the too-easy filter: tool_execution counts tool calls of the REFERENCE program in
        ground truth (injected errors must not pad it); others count plan steps (nodes, meetings, ...)."""

    def structural_signature(self, record: Record) -> str:
        """A hash of the structure with entity names erased (DAG shape, constraint mix, call-name
        sequence): equal signatures mean structural near-duplicates."""

    def contradiction(self, record: Record) -> str | None:
        """A description if the reasoning (think fields) states a different answer than the final answer."""
