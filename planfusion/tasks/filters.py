"""Quality filters shared by all task families: one traceable decision per record.

The order is fixed so that a record is dropped for its most basic fault first: missing ground truth,
then the independent verifier, then too easy, loops, contradictions, and only then deduplication.
Deduplication compares against records already kept, so a rejected record never "claims" a hash or
a structure that a later clean record would otherwise be dropped for.

A family's code must not stop a batch: a verifier that raises fails the record ("verifier_error"), and
any other filter that raises drops it as "malformed", with the exception as the detail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from planfusion.tasks import get_family
from planfusion.tasks.family import Record, TaskFamily, Verdict
from planfusion.tasks.record import canonical_json, content_hash

REASONS: tuple[str, ...] = (
    "kept",
    "failed_verification",
    "too_easy",
    "loop",
    "contradiction",
    "duplicate_exact",
    "duplicate_structural",
    "no_ground_truth",
    "malformed",
)


@dataclass(frozen=True)
class Decision:
    """Why one record was kept or dropped; ``detail`` names the violated checks or the duplicated id."""

    record_id: str
    family: str
    kept: bool
    reason: str
    detail: str = ""
    checks: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    metrics: dict[str, float] = field(default_factory=dict)


def find_loop(trajectory: Any) -> str | None:
    """Describe the first tool call repeated back-to-back with the same arguments and the same result.

    Calls are taken in trajectory order (across messages, including parallel calls in one message).
    Two consecutive identical calls with identical results mean nothing happened in between that
    changed state, so the second one is wasted work. A retry that gets a different result (an error
    then a success) is not a loop.
    """
    if not isinstance(trajectory, list):
        return None
    results: dict[Any, Any] = {}
    calls: list[dict[str, Any]] = []
    for message in trajectory:
        if not isinstance(message, dict):
            continue
        if message.get("role") == "tool":
            results[_hashable(message.get("tool_call_id"))] = message.get("content")
        tool_calls = message.get("tool_calls")
        if isinstance(tool_calls, list):
            calls.extend(call for call in tool_calls if isinstance(call, dict))
    for prev, call in zip(calls, calls[1:]):
        # cheap == first; canonical JSON settles it (== also equates 1, 1.0 and true)
        if call.get("name") != prev.get("name") or call.get("arguments") != prev.get("arguments"):
            continue
        same_call = _canon([call.get("name"), call.get("arguments")]) == _canon([prev.get("name"), prev.get("arguments")])
        result, prev_result = results.get(_hashable(call.get("id"))), results.get(_hashable(prev.get("id")))
        if same_call and _canon(result) == _canon(prev_result):
            return (f"tool call {call.get('name')} {_canon(call.get('arguments'))} issued twice in a row "
                    f"with the same result (call id {call.get('id')})")
    return None


def curate(records: Iterable[Record], *, allow_unverified: bool = False) -> list[Decision]:
    """One decision per record, in input order (see the module docstring for the order of checks).
    Records without ground truth are dropped as ``no_ground_truth``, or with ``allow_unverified``
    kept and tagged "unverified": they skip the verifier, the too-easy check and structural dedup
    (all three are defined over ground truth) but still go through loop, contradiction and exact
    duplicate checks.
    """
    curator = Curator(allow_unverified=allow_unverified)
    return [curator.decide(record) for record in records]


class Curator:
    """:func:`curate` one record at a time, for streams: it remembers only what deduplication needs (the
    kept records' signatures and content hashes), never the records, when each comes with its hash."""

    def __init__(self, *, allow_unverified: bool = False) -> None:
        self.allow_unverified = allow_unverified
        self.families: dict[str, TaskFamily] = {}
        self.kept = _Kept()
        self.position = 0

    def decide(self, record: Record, digest: str | None = None) -> Decision:
        """The record's decision given the records decided before; ``digest``: its content hash, if known."""
        position, self.position = self.position, self.position + 1
        name = record.get("family")
        if name not in self.families:
            try:
                self.families[name] = get_family(name)
            except ValueError as exc:
                raise ValueError(f"record #{position} ({record.get('id')!r}): {exc}") from None
        record_id = str(record.get("id"))
        try:
            return _decide(record, record_id, self.families[name], self.kept, self.allow_unverified, digest)
        except Exception as exc:  # noqa: BLE001 - one record the family code cannot handle must not stop a batch
            return Decision(record_id, name, False, "malformed", f"{type(exc).__name__}: {exc}", (), _tags(record))


def _decide(record: Record, record_id: str, family: TaskFamily, kept: _Kept, allow_unverified: bool,
            digest: str | None = None) -> Decision:
    """One record's decision; raises whatever the family's filters raise."""
    tags = _tags(record)
    ground_truth = record.get("ground_truth")
    verdict = None
    if isinstance(ground_truth, dict) and ground_truth:
        verdict = _verify(family, record)
    elif allow_unverified:
        tags += ("unverified",)
    else:
        return Decision(record_id, family.name, False, "no_ground_truth", "ground_truth is missing or empty", (), tags)
    reason, detail, checks = _judge(record, record_id, family, verdict, kept, digest)
    metrics = verdict.metrics if verdict is not None else {}
    return Decision(record_id, family.name, reason == "kept", reason, detail, checks, tags, metrics)


def _judge(
    record: Record, record_id: str, family: TaskFamily, verdict: Verdict | None, kept: _Kept, digest: str | None = None
) -> tuple[str, str, tuple[str, ...]]:
    """(reason, detail, checks) for one record; ``verdict`` is None for an unverified record."""
    if verdict is not None:
        if not verdict.passed:
            checks = tuple(dict.fromkeys(check for check, _ in verdict.violations))
            detail = "; ".join(f"{check}: {text}" if text else check for check, text in verdict.violations)
            return "failed_verification", detail, checks
        steps = family.count_steps(record)
        if steps < family.min_steps:
            return "too_easy", f"{steps} steps < minimum {family.min_steps}", ()
    loop = find_loop(record.get("trajectory"))
    if loop is not None:
        return "loop", loop, ()
    contradiction = family.contradiction(record)
    if contradiction is not None:
        return "contradiction", contradiction, ()
    structure = (family.name, family.structural_signature(record)) if verdict is not None else None
    duplicate = kept.admit(record, record_id, structure, digest)
    if duplicate is not None:
        return duplicate[0], duplicate[1], ()
    return "kept", "", ()


class _Kept:
    """The records kept so far, for deduplication in input order.

    Content hashes are computed lazily: an exact copy of a kept verified record has that record's
    structural signature too (the signature is a function of content), so for verified records the
    hashes are compared only when signatures collide; that spares hashing every record. A record whose
    hash is given (``digest``) is remembered by its hash, not held.
    Unverified records have no signature and are hashed against each other (they can never equal a
    verified one, whose ground truth is not empty).
    """

    def __init__(self) -> None:
        self.unverified: dict[str, str] = {}  # content hash -> id
        # (family, signature) -> id and, until its hash is needed, the record (None once hashed)
        self.structures: dict[tuple[str, str], tuple[str, Record | None]] = {}
        self.hashes: dict[tuple[str, str], str] = {}  # (family, signature) -> its hash

    def admit(self, record: Record, record_id: str, structure: tuple[str, str] | None,
              digest: str | None = None) -> tuple[str, str] | None:
        """(reason, id of the first copy) for a duplicate, else None and remember the record as kept.
        ``structure`` is (family, signature) for a verified record, None for an unverified one."""
        if structure is None:
            digest = digest or content_hash(record)
            if digest in self.unverified:
                return "duplicate_exact", self.unverified[digest]
            self.unverified[digest] = record_id
            return None
        first = self.structures.get(structure)
        if first is None:
            if digest is None:
                self.structures[structure] = (record_id, record)
            else:
                self.structures[structure], self.hashes[structure] = (record_id, None), digest
            return None
        first_id, first_record = first
        if structure not in self.hashes:
            self.hashes[structure] = content_hash(first_record)
        if (digest or content_hash(record)) == self.hashes[structure]:
            return "duplicate_exact", first_id
        return "duplicate_structural", first_id


def _verify(family: TaskFamily, record: Record) -> Verdict:
    """The family verifier; a crash on outside data is reported as a violation, not raised."""
    try:
        return family.verify(record)
    except Exception as exc:  # noqa: BLE001 - verifiers must not raise; one bad record must not stop a batch
        return Verdict(passed=False, violations=(("verifier_error", f"{type(exc).__name__}: {exc}"),))


def _tags(record: Record) -> tuple[str, ...]:
    quality = record.get("quality")
    if not isinstance(quality, dict):
        return ()
    tags: tuple[str, ...] = ()
    if quality.get("has_reflection") is True:
        tags += ("reflection",)
    recovered = quality.get("n_errors_recovered")
    if isinstance(recovered, (int, float)) and recovered > 0:
        tags += ("error_recovery",)
    return tags


def _canon(value: Any) -> str:
    try:
        return canonical_json(value)
    except (TypeError, ValueError):
        return repr(value)


def _hashable(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool, type(None))) else _canon(value)
