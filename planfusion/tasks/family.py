"""The contract every task family fulfils, so filters, CLI and pipeline treat families alike.

Each family lives in ``planfusion/tasks/<family>/`` (a package) laid out by :data:`TEMPLATE`: the same
modules with the same public names in every family. Its ``__init__`` builds the module-level object
``FAMILY = family_from_package(__name__)``, a :class:`PackageFamily`, which satisfies :class:`TaskFamily`.
What every family shares (argument checks, resolving params once per stream, each record owning its
params) lives there, once; the modules hold only what is the family's own.
"""

from __future__ import annotations

import copy
import importlib
import numbers
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

    def resolve_params(self, params: dict[str, Any] | None) -> dict[str, Any]:
        """Defaults overlaid with ``params``, checked (ValueError naming the bad key): what lineage records."""

    def generate_one(self, master_seed: int, index: int, params: dict[str, Any] | None = None) -> Record:
        """One clean record; depends only on (version, master_seed, index, params)."""

    def generate(self, n: int, seed: int, params: dict[str, Any] | None = None, start: int = 0) -> Iterator[Record]:
        """Records start..start+n-1 of the stream for this master seed; bad arguments fail at the call."""

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


# module of a family package -> the public names it must define
TEMPLATE: dict[str, tuple[str, ...]] = {
    "params": ("SUBTYPES", "DEFAULT_PARAMS", "resolve_params"),
    "generator": ("FAMILY", "GENERATOR", "VERSION", "generate_one", "generate_resolved"),
    "verifier": ("verify",),
    "perturbations": ("PERTURBATIONS",),
    "signature": ("MIN_STEPS", "count_steps", "structural_signature"),
    "contradiction": ("contradiction",),
}


@dataclass(frozen=True, eq=False)  # identity: one object per family, hashable
class PackageFamily:
    """The :class:`TaskFamily` of a package laid out by :data:`TEMPLATE`; build it with :func:`family_from_package`.

    The family's own functions are held as they are (``FAMILY.verify(record)`` is ``verifier.verify(record)``);
    ``generate`` and ``generate_one`` are shared: they check their arguments, resolve params once, and
    hand each record its own deep copy of them to record in lineage (records never share a params dict
    with each other or with the family's defaults).
    """

    package: str
    name: str
    generator: str
    version: str
    subtypes: tuple[str, ...]
    min_steps: int
    perturbations: tuple[Perturbation, ...] = field(repr=False)
    resolve_params: Callable[[dict[str, Any] | None], dict[str, Any]] = field(repr=False)
    generate_resolved: Callable[[int, int, dict[str, Any]], Record] = field(repr=False)
    verify: Callable[[Record], Verdict] = field(repr=False)
    count_steps: Callable[[Record], int] = field(repr=False)
    structural_signature: Callable[[Record], str] = field(repr=False)
    contradiction: Callable[[Record], str | None] = field(repr=False)
    defaults: dict[str, Any] = field(repr=False)

    @property
    def default_params(self) -> dict[str, Any]:
        """A copy of the defaults: editing it changes nothing."""
        return copy.deepcopy(self.defaults)

    def generate_one(self, master_seed: int, index: int, params: dict[str, Any] | None = None) -> Record:
        _check_integer(f"{self.name}.generate_one: master_seed", master_seed)
        _check_integer(f"{self.name}.generate_one: index", index, low=0)
        return self.generate_resolved(master_seed, index, copy.deepcopy(self.resolve_params(params)))

    def generate(self, n: int, seed: int, params: dict[str, Any] | None = None, start: int = 0) -> Iterator[Record]:
        """Records start..start+n-1, lazily; bad arguments and params fail here, not at the first ``next``."""
        _check_integer(f"{self.name}.generate: n", n, low=0)
        _check_integer(f"{self.name}.generate: start", start, low=0)
        _check_integer(f"{self.name}.generate: seed", seed)
        full = self.resolve_params(params)
        return (self.generate_resolved(seed, index, copy.deepcopy(full)) for index in range(start, start + n))


def family_from_package(package: str) -> PackageFamily:
    """The family object of ``planfusion.tasks.<family>``, read from the modules :data:`TEMPLATE` names.

    A family's ``__init__`` calls it as ``FAMILY = family_from_package(__name__)``. A package that misses
    a module or a name, or whose generator names another family, fails here, at import.
    """
    modules = {module: importlib.import_module(f"{package}.{module}") for module in TEMPLATE}
    missing = [f"{module}.{name}" for module, names in TEMPLATE.items() for name in names
               if not hasattr(modules[module], name)]
    if missing:
        raise ImportError(f"task family {package} does not follow the template: missing {', '.join(missing)}")
    params, generator, signature = modules["params"], modules["generator"], modules["signature"]
    if generator.FAMILY != package.rpartition(".")[2]:
        raise ImportError(f"task family {package}: generator.FAMILY is {generator.FAMILY!r}")
    return PackageFamily(
        package=package,
        name=generator.FAMILY,
        generator=generator.GENERATOR,
        version=generator.VERSION,
        subtypes=tuple(params.SUBTYPES),
        min_steps=signature.MIN_STEPS,
        perturbations=tuple(modules["perturbations"].PERTURBATIONS),
        resolve_params=params.resolve_params,
        generate_resolved=generator.generate_resolved,
        verify=modules["verifier"].verify,
        count_steps=signature.count_steps,
        structural_signature=signature.structural_signature,
        contradiction=modules["contradiction"].contradiction,
        defaults=copy.deepcopy(params.DEFAULT_PARAMS),
    )


def _check_integer(what: str, value: Any, low: int | None = None) -> None:
    """A ValueError unless ``value`` is an integer (not a bool) of at least ``low``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or (low is not None and value < low):
        bound = f" >= {low}" if low is not None else ""
        raise ValueError(f"{what} must be an integer{bound}, got {value!r}")
