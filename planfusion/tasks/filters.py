"""Quality filters shared by all task families: one traceable decision per record.

The order is fixed so that a record is dropped for its most basic fault first: missing ground truth,
then the independent verifier, then too easy, loops, contradictions, and only then deduplication.
Deduplication compares against records already kept, so a rejected record never "claims" a hash or
a structure that a later clean record would otherwise be dropped for.
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
    results: dict[Any, str] = {}
    calls: list[tuple[Any, str]] = []
    for message in trajectory:
        if not isinstance(message, dict):
            continue
        if message.get("role") == "tool":
            results[_hashable(message.get("tool_call_id"))] = _canon(message.get("content"))
        for call in message.get("tool_calls") or ():
            if isinstance(call, dict):
                key = _canon([call.get("name"), call.get("arguments")])
                calls.append((_hashable(call.get("id")), key))
    for (prev_id, prev_key), (call_id, key) in zip(calls, calls[1:]):
        if key == prev_key and results.get(prev_id) == results.get(call_id):
            return f"tool call {key} issued twice in a row with the same result (call id {call_id})"
    return None


def curate(records: Iterable[Record], *, allow_unverified: bool = False) -> list[Decision]:
    """One decision per record, in input order (see the module docstring for the order of checks).

    Records without ground truth are dropped as ``no_ground_truth``, or with ``allow_unverified``
    kept and tagged "unverified": they skip the verifier, the too-easy check and structural dedup
    (all three are defined over ground truth) but still go through loop, contradiction and exact
    duplicate checks.
    """
    families: dict[str, TaskFamily] = {}
    seen_hash: dict[str, str] = {}
    seen_structure: dict[tuple[str, str], str] = {}
    decisions: list[Decision] = []
    for position, record in enumerate(records):
        name = record.get("family")
        if name not in families:
            try:
                families[name] = get_family(name)
            except ValueError as exc:
                raise ValueError(f"record #{position} ({record.get('id')!r}): {exc}") from None
        decision = _judge(record, families[name], allow_unverified, seen_hash, seen_structure)
        decisions.append(decision)
    return decisions


def _judge(
    record: Record,
    family: TaskFamily,
    allow_unverified: bool,
    seen_hash: dict[str, str],
    seen_structure: dict[tuple[str, str], str],
) -> Decision:
    record_id = str(record.get("id"))
    tags = _tags(record)

    def drop(reason: str, detail: str, checks: tuple[str, ...] = (), metrics: dict[str, float] | None = None) -> Decision:
        return Decision(record_id, family.name, False, reason, detail, checks, tags, metrics or {})

    verdict = Verdict(passed=True)
    ground_truth = record.get("ground_truth")
    verified = isinstance(ground_truth, dict) and bool(ground_truth)
    if not verified:
        if not allow_unverified:
            return drop("no_ground_truth", "ground_truth is missing or empty")
        tags += ("unverified",)
    else:
        verdict = _verify(family, record)
        if not verdict.passed:
            checks = tuple(dict.fromkeys(check for check, _ in verdict.violations))
            detail = "; ".join(f"{check}: {text}" if text else check for check, text in verdict.violations)
            return drop("failed_verification", detail, checks, verdict.metrics)
        steps = family.count_steps(record)
        if steps < family.min_steps:
            return drop("too_easy", f"{steps} steps < minimum {family.min_steps}", (), verdict.metrics)

    loop = find_loop(record.get("trajectory"))
    if loop is not None:
        return drop("loop", loop, (), verdict.metrics)
    contradiction = family.contradiction(record)
    if contradiction is not None:
        return drop("contradiction", contradiction, (), verdict.metrics)

    digest = content_hash(record)
    if digest in seen_hash:
        return drop("duplicate_exact", seen_hash[digest], (), verdict.metrics)
    if verified:
        structure = (family.name, family.structural_signature(record))
        if structure in seen_structure:
            return drop("duplicate_structural", seen_structure[structure], (), verdict.metrics)
        seen_structure[structure] = record_id
    seen_hash[digest] = record_id
    return Decision(record_id, family.name, True, "kept", "", (), tags, verdict.metrics)


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
