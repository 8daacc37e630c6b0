"""curate(): the order of checks, the no-ground-truth policy, duplicates found.

The mechanics (order of checks, no-ground-truth policy, dedup against kept records only, loops) are
tested on a tiny in-test family so they hold whatever the real families do; the real families' records
then go through the same deduplication. That every family's clean records are kept and each of its
negatives is dropped for the reason it names is the contract suite's (test_family_contract.py).
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any, Callable

import pytest

from planfusion.tasks import filters
from planfusion.tasks.family import Verdict
from planfusion.tasks.filters import curate, find_loop
from planfusion.tasks.record import FAMILIES, build_record, restamp


# ---------------------------------------------------------------- mechanics, on a stub family


class _Stub:
    """Plan = list of step names in ground truth; the answer must list them; signature = number of steps."""

    name = "decomposition"
    min_steps = 2

    def verify(self, record: dict[str, Any]) -> Verdict:
        if record["ground_truth"].get("crash"):
            raise KeyError("boom")
        expected = ",".join(record["ground_truth"]["steps"])
        if record["answer"] != expected:
            return Verdict(False, (("wrong_answer", f"{record['answer']!r} != {expected!r}"),), {"score": 0.0})
        return Verdict(True, (), {"score": 1.0})

    def count_steps(self, record: dict[str, Any]) -> int:
        return len(record["ground_truth"].get("steps", ()))

    def structural_signature(self, record: dict[str, Any]) -> str:
        return str(len(record["answer"].split(",")))

    def contradiction(self, record: dict[str, Any]) -> str | None:
        thoughts = [m.get("think") for m in record["trajectory"] if m.get("think")]
        return "think disagrees" if thoughts and thoughts[-1] != record["answer"] else None


def _stub_record(steps: list[str], *, index: int = 0, **quality: Any) -> dict[str, Any]:
    answer = ",".join(steps)
    return build_record(
        family="decomposition", subtype="stub", task={"instruction": "plan"}, ground_truth={"steps": steps},
        trajectory=[{"role": "assistant", "content": answer, "think": answer}], answer=answer,
        difficulty={"level": 1, "knobs": {}}, quality={"has_reflection": False, "n_errors_recovered": 0, **quality},
        generator="stub", version="1", master_seed=0, index=index, seed=index, params={}, text=answer,
    )


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(filters, "get_family", lambda name: _Stub())


def test_order_of_checks_and_reasons(stub: None) -> None:
    clean = _stub_record(["a", "b", "c"])
    wrong = copy.deepcopy(clean)
    wrong["answer"] = "c,b,a"
    easy = _stub_record(["a"], index=1)
    contradicting = _stub_record(["a", "b"], index=2)
    contradicting["trajectory"][0]["think"] = "b,a"
    crash = _stub_record(["x", "y"], index=3)
    crash["ground_truth"]["crash"] = True
    decisions = curate([wrong, easy, contradicting, crash, clean])
    assert [d.reason for d in decisions] == ["failed_verification", "too_easy", "contradiction", "failed_verification", "kept"]
    assert decisions[0].checks == ("wrong_answer",) and "wrong_answer" in decisions[0].detail
    assert decisions[0].metrics == {"score": 0.0} and decisions[4].metrics == {"score": 1.0}
    assert decisions[1].detail == "1 steps < minimum 2"
    assert decisions[3].checks == ("verifier_error",) and "KeyError" in decisions[3].detail
    assert [d.record_id for d in decisions] == [r["id"] for r in (wrong, easy, contradicting, crash, clean)]


def test_duplicates_are_judged_against_kept_records_only(stub: None) -> None:
    first = _stub_record(["a", "b", "c"])
    same_content_new_id = dict(copy.deepcopy(first), id="other-id")
    same_shape = _stub_record(["x", "y", "z"], index=1)
    broken_shape = _stub_record(["p", "q"], index=2)
    broken_shape["answer"] = "q,p"          # fails verification: must not claim its structure
    fixed_shape = _stub_record(["r", "s"], index=3)
    decisions = curate([first, first, same_content_new_id, same_shape, broken_shape, fixed_shape])
    assert [(d.reason, d.detail) for d in decisions[1:4]] == [
        ("duplicate_exact", first["id"]), ("duplicate_exact", first["id"]), ("duplicate_structural", first["id"])]
    assert [d.reason for d in decisions[4:]] == ["failed_verification", "kept"]


def test_content_hash_is_recomputed_not_trusted(stub: None) -> None:
    first = _stub_record(["a", "b", "c"])
    forged = dict(copy.deepcopy(first), id="forged")
    forged["lineage"]["content_hash"] = "0" * 64
    assert curate([first, forged])[1].reason == "duplicate_exact"


def test_no_ground_truth_policy_both_ways(stub: None) -> None:
    missing = _stub_record(["a", "b"])
    del missing["ground_truth"]
    empty = restamp(dict(_stub_record(["c", "d", "e"], index=1), ground_truth={}))
    strict = curate([missing, empty])
    assert [(d.kept, d.reason) for d in strict] == [(False, "no_ground_truth")] * 2
    same_shape = restamp(dict(_stub_record(["x", "y", "z"], index=2), ground_truth={}))
    lenient = curate([missing, empty, same_shape, empty], allow_unverified=True)
    assert [(d.kept, d.reason, d.tags) for d in lenient[:3]] == [(True, "kept", ("unverified",))] * 3
    assert (lenient[3].reason, lenient[3].detail) == ("duplicate_exact", empty["id"])
    looping = copy.deepcopy(empty)
    looping["trajectory"] = _calls(("read", {"p": 1}, "x"), ("read", {"p": 1}, "x"))
    assert curate([looping], allow_unverified=True)[0].reason == "loop"  # later checks still apply


def test_reflection_and_error_recovery_are_tagged_and_kept(stub: None) -> None:
    record = _stub_record(["a", "b"], has_reflection=True, n_errors_recovered=2)
    decision = curate([record])[0]
    assert decision.kept and decision.tags == ("reflection", "error_recovery")


def test_unknown_family_is_a_clear_error() -> None:
    record = _stub_record(["a", "b"])
    record["family"] = "poetry"
    with pytest.raises(ValueError, match=r"record #0 \('dec-.*'\): unknown family 'poetry'"):
        curate([record])


class _Fragile(_Stub):
    """A stub whose filters raise on a record whose task names them (its verifier still passes)."""

    def count_steps(self, record: dict[str, Any]) -> int:
        self._maybe_raise(record, "count_steps")
        return super().count_steps(record)

    def structural_signature(self, record: dict[str, Any]) -> str:
        self._maybe_raise(record, "structural_signature")
        return super().structural_signature(record)

    def contradiction(self, record: dict[str, Any]) -> str | None:
        self._maybe_raise(record, "contradiction")
        return super().contradiction(record)

    @staticmethod
    def _maybe_raise(record: dict[str, Any], name: str) -> None:
        if record["task"].get("raise") == name:
            raise ZeroDivisionError(f"{name} broke")


@pytest.mark.parametrize(("name", "allow_unverified"), [
    ("count_steps", False), ("structural_signature", False), ("contradiction", False), ("contradiction", True)])
def test_a_filter_raising_on_one_record_drops_it_as_malformed_and_the_batch_goes_on(
    monkeypatch: pytest.MonkeyPatch, name: str, allow_unverified: bool
) -> None:
    monkeypatch.setattr(filters, "get_family", lambda family: _Fragile())
    before, after = _stub_record(["a", "b"], index=1), _stub_record(["c", "d", "e"], index=2)
    broken = _stub_record(["x", "y", "z", "w"], index=3)
    broken["task"]["raise"] = name
    if allow_unverified:
        broken["ground_truth"] = {}
    decisions = curate([before, restamp(broken), after], allow_unverified=allow_unverified)
    assert [(d.reason, d.detail) for d in decisions] == [
        ("kept", ""), ("malformed", f"ZeroDivisionError: {name} broke"), ("kept", "")]
    assert decisions[1].record_id == broken["id"] and not decisions[1].kept
    assert "malformed" in filters.REASONS


def _calls(*calls: tuple[str, dict[str, Any], str], parallel: bool = False) -> list[dict[str, Any]]:
    """A trajectory issuing (name, arguments, result) calls one per message, or all in one message."""
    tool_calls = [{"id": f"c{i}", "name": name, "arguments": args} for i, (name, args, _) in enumerate(calls)]
    results = [{"role": "tool", "tool_call_id": f"c{i}", "content": out} for i, (_, _, out) in enumerate(calls)]
    if parallel:
        return [{"role": "assistant", "content": "", "tool_calls": tool_calls}, *results]
    messages: list[dict[str, Any]] = []
    for call, result in zip(tool_calls, results):
        messages += [{"role": "assistant", "content": "", "tool_calls": [call]}, result]
    return messages


def test_find_loop() -> None:
    assert find_loop(_calls(("get", {"a": 1, "b": 2}, "v"), ("get", {"b": 2, "a": 1}, "v"))) is not None
    assert find_loop(_calls(("get", {"a": 1}, "v"), ("get", {"a": 1}, "v"), parallel=True)) is not None
    assert find_loop(_calls(("pay", {"a": 1}, '{"error": "no funds"}'), ("pay", {"a": 1}, "ok"))) is None
    assert find_loop(_calls(("get", {"a": 1}, "v"), ("put", {"a": 2}, "ok"), ("get", {"a": 1}, "v"))) is None
    assert find_loop(_calls(("get", {"a": 1}, "v"), ("get", {"a": 2}, "v"))) is None
    assert find_loop(_calls(("set", {"on": True}, "ok"), ("set", {"on": 1}, "ok"))) is None  # JSON, not Python, equality
    assert find_loop("not a list") is None and find_loop([None, {"tool_calls": "x"}]) is None


# ---------------------------------------------------------------- the real families


N_CLEAN = 24


@pytest.fixture
def clean(family_or_skip: Callable[[str], Any], name: str) -> tuple[Any, list[dict[str, Any]]]:
    """The family and its first N_CLEAN clean records for master seed 7."""
    family = family_or_skip(name)
    return family, list(family.generate(N_CLEAN, 7))


@pytest.mark.parametrize("name", FAMILIES)
def test_same_record_twice_is_an_exact_duplicate(clean: tuple[Any, list[dict[str, Any]]]) -> None:
    _, clean = clean
    decisions = curate([clean[0], clean[1], copy.deepcopy(clean[0])])
    assert [(d.reason, d.detail) for d in decisions] == [("kept", ""), ("kept", ""), ("duplicate_exact", clean[0]["id"])]


@pytest.mark.parametrize("name", FAMILIES)
def test_records_stripped_of_ground_truth(clean: tuple[Any, list[dict[str, Any]]]) -> None:
    """Signatures and step counts read ground truth: unverified records must not reach them."""
    stripped = [restamp(dict(copy.deepcopy(r), ground_truth={})) for r in clean[1][:4]]
    assert {d.reason for d in curate(stripped)} == {"no_ground_truth"}
    assert [(d.reason, "unverified" in d.tags) for d in curate(stripped, allow_unverified=True)] == [("kept", True)] * 4


# Per family, an entity to rename consistently through the whole record, and its new name (same
# length where sizes or sort order are observed): same structure, new content.
def _owner(record: dict[str, Any]) -> tuple[str, str]:
    old = re.search(r"owner: ([A-Z][a-z]+ [A-Z][a-z]+)", json.dumps(record["ground_truth"]["initial_state"])).group(1)
    return old, "Z" + old[1:]


ENTITY: dict[str, Callable[[dict[str, Any]], tuple[str, str]]] = {
    "decomposition": lambda r: (r["ground_truth"]["nodes"][0], "Consult the oracle of Zebulon"),
    "scheduling": lambda r: (r["ground_truth"]["constraints"]["participants"][0], "Zebulon"),
    "tool_execution": _owner,
}


@pytest.mark.parametrize("name", FAMILIES)
def test_renamed_entities_are_a_structural_duplicate(name: str, clean: tuple[Any, list[dict[str, Any]]]) -> None:
    record, (old, new) = next((r, e) for r in clean[1] if (e := _entity(name, r)))
    renamed = restamp(json.loads(json.dumps(record).replace(old, new)))
    renamed["id"] = "renamed"
    assert renamed["lineage"]["content_hash"] != record["lineage"]["content_hash"]
    assert curate([renamed])[0].kept  # on its own, the renamed record is a good record
    decisions = curate([record, renamed])
    assert [(d.reason, d.detail) for d in decisions] == [("kept", ""), ("duplicate_structural", record["id"])]


def _entity(name: str, record: dict[str, Any]) -> tuple[str, str] | None:
    """The family's entity in this record, None when the record has none (another subtype)."""
    try:
        return ENTITY[name](record)
    except (KeyError, IndexError, TypeError, AttributeError):
        return None
