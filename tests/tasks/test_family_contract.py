"""The contract every task family keeps, checked the same way for each (issue #12).

One template (the modules and names of ``planfusion.tasks.family.TEMPLATE``, one ``PackageFamily``), the
record envelope, clean records that verify and are kept, determinism in and across processes, stable and
unique ids, the start offset, each negative caught by the check it names, bad arguments and params
raising ValueError at the call, clean texts, valid training examples, and pinned output. What only one
family promises (its checks, subtypes, shapes, solvers, how often each negative applies) stays in that
family's own test file.
"""

from __future__ import annotations

import copy
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import planfusion
from planfusion.export import build_examples
from planfusion.tasks import FAMILIES, TaskFamily, get_family
from planfusion.tasks.family import TEMPLATE, PackageFamily
from planfusion.tasks.filters import REASONS, curate, find_loop
from planfusion.tasks.hygiene import record_problems
from planfusion.tasks.negatives import negative
from planfusion.tasks.record import (
    FAMILY_PREFIX,
    REQUIRED_FIELDS,
    canonical_json,
    content_hash,
    derive_seed,
    record_id,
)

Record = dict[str, Any]
SEED = 20260
N = 120              # clean records per family for the envelope, verification and determinism
NEGATIVE_SAMPLE = 24  # clean records each perturbation is tried on (every subtype)
HYGIENE_N = 300      # records whose texts are checked: the N clean ones and the next ones of the stream
EXPORT_N = 60
FILTER_REASONS = ("too_easy", "loop", "contradiction")
LINEAGE_KEYS = {"generator", "generator_version", "master_seed", "index", "seed", "params", "content_hash",
                "parent_id", "perturbation"}
QUALITY_KEYS = {"n_steps", "n_tool_calls", "n_errors_recovered", "has_reflection", "format_ok", "answer_correct",
                "flags"}
WRONG_VALUES = (None, "not-a-value", {"bad": 1}, True, -1.5, [])  # wrong type or out of range for every param

# (master seed, index) -> content hash, every subtype pinned; a change means a generator's output changed:
# bump its VERSION.
GOLDEN: dict[str, dict[tuple[int, int], str]] = {
    "decomposition": {
        (0, 0): "e6ff24385e96429575ee614b30b86b92540bbc2c9d54791b525306467e5599a3",  # linear
        (0, 1): "e1bc3030c72bf71113fb8a73c0fcfe989189d41258118d30c67b83112bf4ddc2",  # parallel
        (0, 3): "93fa39a15fd7063b4047940b658d3d30e566a4b82eb2609929f08a24b6049cc0",  # hierarchical
        (7, 42): "51b547334d742ff40a45feaadc9539108581153c4b70c2e23d52822aa9537c08",
        (2024, 999): "3787fa429a403549623ed0c089a2530ce5e7a25427099593b02db0499d4b737d",
    },
    "scheduling": {
        (0, 0): "a625de263be51746659eff9949528b5572d7e04d6630781f9a5f33fc6ddaddf5",  # calendar_meeting
        (0, 1): "1022923cc750c34475af0f7f2a9a1adf49645a4dfe25eb17f3cb0a56cd1dc3f1",  # meeting_route
        (0, 2): "e6107d1d3a968dc90d4277ed09b4017a2c85d846cff4929ccd5c15435d0a24f0",  # trip_itinerary
        (0, 3): "1e9e4dd47ceaacde8c6f07fcb44731a255e297ec8248ab8f8a1a9f6e602c7f3b",  # job_shop
        (2024, 17): "8036346fd6802092edb85852c9395f0f3eaf05dadaead6591175abc7427194ee",  # meeting_route
    },
    "tool_execution": {
        (0, 0): "87c2040e72b5e0a4a6946634a877cec9e12917b2ccfedfacc803fd09d6b09755",  # files
        (0, 1): "14a40385b73772c96ef5effcdea33a7ca8a79e887a1a571a20bd7ed772036236",  # tickets
        (0, 2): "0d06dd06c3139cde2deac7f5586852450f53d1affc0abe12d10b9a12f9e7685e",  # orders
        (0, 3): "8e0416bfb5f3cdac3fb3a86f921934794373f5ab8af5f1f7d6fd575f57da6c00",  # bank
        (7, 4): "d5491e51433e8087489faffb062f189f207c0a6cfada439804682dac3554755e",  # cross_backend
        (2026, 123): "8031ff31b028703e1382416e246ce94f0877cb6fc1f07e714b5a31d2cdeb8dc8",
    },
}
NEGATIVE_CASES = [pytest.param(name, p.kind, id=f"{name}-{p.kind}") for name in FAMILIES
                  for p in get_family(name).perturbations]


@pytest.fixture(scope="module", params=FAMILIES)
def family(request: pytest.FixtureRequest) -> TaskFamily:
    return get_family(request.param)


_CLEAN: dict[str, list[Record]] = {}


def _clean(name: str) -> list[Record]:
    """The first N records of SEED, made once per family; tests copy before they edit."""
    if name not in _CLEAN:
        _CLEAN[name] = list(get_family(name).generate(N, SEED))
    return _CLEAN[name]


@pytest.fixture
def clean(family: TaskFamily) -> list[Record]:
    return _clean(family.name)


def _containers(value: Any) -> dict[int, Any]:
    """Every dict and list inside ``value`` by identity (held, so ids stay unique while compared)."""
    found: dict[int, Any] = {}
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (dict, list)):
            found[id(item)] = item
            stack.extend(item.values() if isinstance(item, dict) else item)
    return found


# ---------------------------------------------------------------- one template


def test_every_family_is_built_from_the_template(family: TaskFamily) -> None:
    package = importlib.import_module(f"planfusion.tasks.{family.name}")
    assert get_family(family.name) is package.FAMILY is family and isinstance(family, PackageFamily)
    modules = {m: importlib.import_module(f"planfusion.tasks.{family.name}.{m}") for m in TEMPLATE}
    for module, names in TEMPLATE.items():
        assert all(hasattr(modules[module], n) for n in names), (module, names)
    assert (family.generator, family.version) == (modules["generator"].GENERATOR, modules["generator"].VERSION)
    assert family.generator == f"planfusion.{family.name}" and family.version.isdigit()
    assert family.subtypes == tuple(modules["params"].SUBTYPES) and family.subtypes
    assert family.default_params == modules["params"].DEFAULT_PARAMS
    assert family.min_steps == modules["signature"].MIN_STEPS >= 1
    assert family.perturbations == tuple(modules["perturbations"].PERTURBATIONS)
    assert family.verify is modules["verifier"].verify
    assert family.count_steps is modules["signature"].count_steps
    assert family.structural_signature is modules["signature"].structural_signature
    assert family.contradiction is modules["contradiction"].contradiction
    for member in [*TaskFamily.__annotations__, "resolve_params", "generate_one", "generate", "verify",
                   "count_steps", "structural_signature", "contradiction"]:
        assert hasattr(family, member), member


def test_perturbations_are_distinct_and_name_a_check(family: TaskFamily) -> None:
    kinds = [p.kind for p in family.perturbations]
    assert kinds and len(kinds) == len(set(kinds))
    for p in family.perturbations:
        # a filter reason, or a verifier check name (which is never one of curate's reasons)
        assert p.caught_by in FILTER_REASONS or (p.caught_by.isidentifier() and p.caught_by not in REASONS), p
    assert "too_easy" in {p.caught_by for p in family.perturbations}
    assert "contradiction" in {p.caught_by for p in family.perturbations}


# ---------------------------------------------------------------- the record envelope


def test_record_envelope(family: TaskFamily, clean: list[Record]) -> None:
    defaults = family.default_params
    for record in clean:
        where = record.get("id")
        for key, kind in REQUIRED_FIELDS.items():
            assert isinstance(record[key], kind), (where, key)
        assert json.loads(canonical_json(record)) == record, where  # plain JSON all the way down
        assert record["family"] == family.name and record["subtype"] in family.subtypes, where
        lineage = record["lineage"]
        assert set(lineage) == LINEAGE_KEYS, where
        assert (lineage["generator"], lineage["generator_version"]) == (family.generator, family.version)
        assert lineage["master_seed"] == SEED and lineage["parent_id"] is None and lineage["perturbation"] is None
        assert lineage["seed"] == derive_seed(SEED, lineage["index"], family.generator, family.version), where
        assert lineage["params"] == defaults == family.resolve_params(None), where
        assert lineage["content_hash"] == content_hash(record), where
        assert record["id"] == record_id(family.name, family.generator, family.version, lineage["seed"],
                                         lineage["params"])
        assert record["id"].startswith(FAMILY_PREFIX[family.name] + "-")
        assert isinstance(record["task"].get("instruction"), str) and record["task"]["instruction"].strip()
        assert record["text"].startswith(record["task"]["instruction"] + "\n\n" + record["answer"]), where
        level = record["difficulty"]["level"]
        assert type(level) is int and 1 <= level <= 5 and isinstance(record["difficulty"]["knobs"], dict), where
        assert set(record["quality"]) >= QUALITY_KEYS, where
        assert record["quality"]["n_steps"] == family.count_steps(record) >= family.min_steps, where
        trajectory = record["trajectory"]
        assert [m["role"] for m in trajectory[:2]] == ["system", "user"], where
        assert trajectory[-1]["role"] == "assistant" and not trajectory[-1].get("tool_calls"), where
        assert trajectory[-1]["content"] == record["answer"] and record["answer"].strip(), where
    assert [r["lineage"]["index"] for r in clean] == list(range(N))


def test_ground_truth_is_kept_apart_from_what_a_solver_sees(clean: list[Record]) -> None:
    """No object is shared between ground truth and task or trajectory, and no sizeable ground-truth
    value is spelled out in the task (the export checks the messages the same way)."""
    for record in clean:
        truth = _containers(record["ground_truth"])
        assert not truth.keys() & _containers([record["task"], record["trajectory"]]).keys(), record["id"]
        shown = canonical_json(record["task"])
        for key, value in record["ground_truth"].items():
            text = canonical_json(value)
            assert not (isinstance(value, (dict, list)) and len(text) >= 48 and text in shown), (record["id"], key)


def test_records_share_no_objects_with_each_other_or_the_family(family: TaskFamily, clean: list[Record]) -> None:
    """Editing one record (its params, its tools, ...) changes no other record and no defaults."""
    seen: dict[int, int] = {}
    for position, record in enumerate(clean):
        for ident in _containers(record):
            assert seen.setdefault(ident, position) == position, (record["id"], "shares an object with record",
                                                                  clean[seen[ident]]["id"])
    first, second = family.generate(2, SEED)
    before = canonical_json(second)
    for value in first["lineage"]["params"].values():
        if isinstance(value, list):
            value.append("edited")
    assert canonical_json(second) == before and family.default_params == family.resolve_params(None)
    assert canonical_json(family.generate_one(SEED, 0)) == canonical_json(clean[0])


# ---------------------------------------------------------------- clean records verify and are kept


def test_clean_records_verify_and_are_kept(family: TaskFamily, clean: list[Record]) -> None:
    for record in clean:
        verdict = family.verify(record)
        assert verdict.passed and verdict.violations == (), (record["id"], verdict.violations[:3])
        assert family.contradiction(record) is None and find_loop(record["trajectory"]) is None, record["id"]
    assert [(d.reason, d.detail) for d in curate(clean) if not d.kept] == []
    assert {r["subtype"] for r in clean} == set(family.subtypes)


# ---------------------------------------------------------------- determinism, ids, offsets


def test_same_seed_same_records_in_any_order(family: TaskFamily, clean: list[Record]) -> None:
    again = list(family.generate(N, SEED))
    assert [canonical_json(r) for r in again] == [canonical_json(r) for r in clean]
    for index in (N - 1, 0, 37, 1):
        assert canonical_json(family.generate_one(SEED, index)) == canonical_json(clean[index])


def test_start_offset_continues_the_same_stream(family: TaskFamily, clean: list[Record]) -> None:
    for start, n in ((0, 5), (1, 3), (50, 7), (N - 1, 1)):
        part = list(family.generate(n, SEED, start=start))
        assert [canonical_json(r) for r in part] == [canonical_json(r) for r in clean[start:start + n]], start
    assert list(family.generate(0, SEED)) == [] and list(family.generate(0, SEED, start=5)) == []


def test_ids_are_stable_and_unique(family: TaskFamily, clean: list[Record]) -> None:
    ids = [r["id"] for r in clean]
    assert len(set(ids)) == len(ids)
    other = [r["id"] for r in family.generate(N, SEED + 1)]
    assert len(set(other)) == len(other) and not set(other) & set(ids)
    assert [family.generate_one(SEED, i)["id"] for i in (3, 4)] == ids[3:5]
    narrowed = {"subtypes": [family.subtypes[0]]}  # other params: another id for the same (seed, index)
    assert family.generate_one(SEED, 0, narrowed)["id"] == family.generate_one(SEED, 0, narrowed)["id"] != ids[0]


def test_same_records_in_another_process(family: TaskFamily, clean: list[Record]) -> None:
    """Another interpreter with other hash seeds (set ordering, str hashes) builds the same records."""
    root = str(Path(planfusion.__file__).resolve().parents[1])  # this checkout, not an installed copy
    code = ("import sys\nfrom planfusion.tasks import get_family\nfrom planfusion.tasks.record import canonical_json\n"
            f"for r in get_family({family.name!r}).generate(12, {SEED}, start=30):\n"
            "    sys.stdout.write(canonical_json(r) + '\\n')\n")
    expected = [canonical_json(r) for r in clean[30:42]]
    for hash_seed in ("1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed,
               "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
        assert out.stdout.splitlines() == expected, hash_seed


@pytest.mark.parametrize("name", FAMILIES)
def test_golden_content_hashes(name: str) -> None:
    family = get_family(name)
    made = {key: family.generate_one(*key) for key in GOLDEN[name]}
    assert {key: r["lineage"]["content_hash"] for key, r in made.items()} == GOLDEN[name]
    assert {r["subtype"] for r in made.values()} == set(family.subtypes)  # every subtype is pinned


# ---------------------------------------------------------------- negatives


@pytest.mark.parametrize("name, kind", NEGATIVE_CASES)
def test_each_negative_is_caught_by_its_check(name: str, kind: str) -> None:
    """Every perturbation, on a sample of clean records, is rejected by the check it names: the verifier's
    first violation, or (with a passing verifier) exactly the filter it names; ``curate`` agrees."""
    family = get_family(name)
    perturbation = next(p for p in family.perturbations if p.kind == kind)
    parents = _clean(name)[:NEGATIVE_SAMPLE]
    before = [canonical_json(r) for r in parents]
    made = [(parent, negative(family, parent, SEED, perturbation)) for parent in parents]
    made = [(parent, neg) for parent, neg in made if neg is not None]
    assert made, f"{name}/{kind} applies to none of {len(parents)} records"
    for parent, neg in made:
        lineage = neg["lineage"]
        assert lineage["parent_id"] == parent["id"] and lineage["perturbation"] == kind
        assert neg["id"] == f"{parent['id']}~{kind}" and neg["family"] == name
        assert lineage["content_hash"] == content_hash(neg) != parent["lineage"]["content_hash"]
        verdict = family.verify(neg)
        where = (neg["id"], verdict.violations[:3])
        if perturbation.caught_by in FILTER_REASONS:
            assert verdict.passed, where
            assert (family.count_steps(neg) < family.min_steps) == (perturbation.caught_by == "too_easy"), where
            assert (find_loop(neg["trajectory"]) is not None) == (perturbation.caught_by == "loop"), where
            assert (family.contradiction(neg) is not None) == (perturbation.caught_by == "contradiction"), where
        else:
            assert not verdict.passed and verdict.first_check == perturbation.caught_by, where
    for (_, neg), decision in zip(made, curate([neg for _, neg in made])):
        if perturbation.caught_by in FILTER_REASONS:
            assert decision.reason == perturbation.caught_by, (neg["id"], decision)
        else:
            assert decision.reason == "failed_verification" and perturbation.caught_by in decision.checks, decision
    assert [canonical_json(r) for r in parents] == before  # parents were copied, not edited


# ---------------------------------------------------------------- bad arguments and params


@pytest.mark.parametrize("n, start", [(-1, 0), (3, -2), (1.5, 0), ("3", 0), (True, 0), (None, 0), (3, 0.0),
                                      (3, "1"), (3, None)])
def test_bad_counts_raise_at_the_call(family: TaskFamily, n: Any, start: Any) -> None:
    with pytest.raises(ValueError, match=f"{family.name}.generate: (n|start) must be an integer >= 0"):
        family.generate(n, SEED, start=start)  # no record pulled: the check is eager


@pytest.mark.parametrize("seed, index", [(SEED, -1), (SEED, 1.0), (SEED, "0"), (1.5, 0), ("7", 0), (None, 0)])
def test_bad_seed_or_index_raises(family: TaskFamily, seed: Any, index: Any) -> None:
    with pytest.raises(ValueError, match=f"{family.name}.generate_one: (master_seed|index) must be an integer"):
        family.generate_one(seed, index)
    if index == 0:
        with pytest.raises(ValueError, match="seed must be an integer"):
            family.generate(1, seed)


def test_unknown_or_malformed_params_raise_at_the_call(family: TaskFamily) -> None:
    for params in ({"no_such_param": 1}, {**family.default_params, "nodes": 3}, [1, 2], "subtypes", 7):
        with pytest.raises(ValueError, match=family.name):
            family.generate(3, SEED, params)  # eagerly, before any record is pulled
        with pytest.raises(ValueError, match=family.name):
            family.generate_one(SEED, 0, params)
        with pytest.raises(ValueError, match=family.name):
            family.resolve_params(params)


def test_wrong_typed_param_values_raise(family: TaskFamily) -> None:
    for key in family.default_params:
        for value in WRONG_VALUES:
            with pytest.raises(ValueError, match=family.name):
                family.generate(1, SEED, {key: value})


def test_resolve_params_fills_defaults_and_leaves_its_input_alone(family: TaskFamily) -> None:
    assert family.resolve_params(None) == family.resolve_params({}) == family.default_params
    given = {"subtypes": [family.subtypes[-1]]}
    resolved = family.resolve_params(given)
    assert given == {"subtypes": [family.subtypes[-1]]} and set(resolved) == set(family.default_params)
    assert resolved["subtypes"] == [family.subtypes[-1]]
    record = family.generate_one(SEED, 0, given)
    assert record["subtype"] == family.subtypes[-1] and record["lineage"]["params"] == resolved
    edited = family.default_params
    edited["subtypes"].clear()
    assert family.default_params["subtypes"] == list(family.subtypes)


# ---------------------------------------------------------------- texts and training examples


def test_texts_are_clean(family: TaskFamily, clean: list[Record]) -> None:
    """No doubled words, dangling articles, unbalanced quotes or brackets, stray spaces in anything a solver
    sees or the model is trained to write (planfusion.tasks.hygiene)."""
    records = clean + list(family.generate(HYGIENE_N - N, SEED, start=N))
    found = [(r["id"], problem) for r in records for problem in record_problems(r)]
    assert found == [], found[:5]


def test_every_clean_record_exports(family: TaskFamily, clean: list[Record]) -> None:
    records = copy.deepcopy(clean[:EXPORT_N])
    examples, dropped = build_examples((r, {"fusion_step": i + 1, "novelty": 0.5}) for i, r in enumerate(records))
    assert dropped == {} and [e["id"] for e in examples] == [r["id"] for r in records]
    assert [canonical_json(r) for r in records] == [canonical_json(r) for r in clean[:EXPORT_N]]
