"""tool_execution family: what only it promises (SFT-ready tool trajectories, JSON-schema tools, long
data-dependent programs, a replay verifier that is independent and never raises, how often each negative
applies, the simulator). The contract all families keep (envelope, determinism, ids, negatives caught, bad
arguments, hygiene, export, golden hashes) is in test_family_contract.py."""

from __future__ import annotations

import ast
import json
import random
from pathlib import Path
from typing import Any

import pytest

from planfusion.tasks.record import content_hash, derive_seed
from planfusion.tasks.tool_execution import FAMILY, verifier
from planfusion.tasks.tool_execution.env import TOOLS, Simulator, end_states
from planfusion.tasks.tool_execution.env.schema import validate_arguments

PACKAGE = Path(__file__).resolve().parents[2] / "planfusion" / "tasks" / "tool_execution"
FILTER_REASONS = ("too_easy", "loop", "contradiction")
Record = dict[str, Any]


@pytest.fixture(scope="module")
def clean() -> list[Record]:
    """300 records, 60 per subtype."""
    return list(FAMILY.generate(300, 7))


def _negatives(records: list[Record], kind: str) -> list[Record]:
    perturbation = next(p for p in FAMILY.perturbations if p.kind == kind)
    out = []
    for record in records:
        rng = random.Random(derive_seed(7, record["lineage"]["index"], f"negative:{kind}", FAMILY.version))
        negative = perturbation.apply(record, rng)
        if negative is not None:
            out.append(negative)
    return out


# ---------------------------------------------------------------- identity and trajectories


def test_identity() -> None:
    assert (FAMILY.name, FAMILY.generator, FAMILY.version) == ("tool_execution", "planfusion.tool_execution", "2")
    assert FAMILY.subtypes == ("files", "tickets", "orders", "bank", "cross_backend")
    assert FAMILY.min_steps == 5
    kinds = [p.kind for p in FAMILY.perturbations]
    assert {"skipped_write", "wrong_argument", "invented_observation", "success_after_error", "too_few_calls",
            "loop", "contradiction"} <= set(kinds)
    for perturbation in FAMILY.perturbations:
        assert perturbation.caught_by in verifier.CHECKS + FILTER_REASONS, perturbation


def test_trajectory_is_sft_ready(clean: list[Record]) -> None:
    for record in clean[:100]:
        messages = record["trajectory"]
        assert messages[0]["role"] == "system" and messages[1]["role"] == "user"
        assert messages[-1]["role"] == "assistant" and messages[-1]["content"] == record["answer"]
        assert "tool_calls" not in messages[-1]
        calls = {}
        for i, message in enumerate(messages):
            if message["role"] == "assistant":
                assert isinstance(message["think"], str) and message["think"]
                for call in message.get("tool_calls", ()):
                    calls[call["id"]] = call
                    assert call["name"] in {t["name"] for t in record["task"]["tools"]}
            if message["role"] == "tool":
                assert message["tool_call_id"] in calls
                assert isinstance(json.loads(message["content"]), dict)
        answered = [m["tool_call_id"] for m in messages if m["role"] == "tool"]
        assert sorted(answered) == sorted(calls) and len(set(answered)) == len(answered)
        quality = record["quality"]
        assert quality["n_tool_calls"] == len(calls)
        assert quality["n_steps"] == FAMILY.count_steps(record)
        errors = sum('"error"' in m["content"] for m in messages if m["role"] == "tool")
        assert quality["n_errors_recovered"] == errors and quality["has_reflection"] == (errors > 0)
        assert quality["n_tool_calls"] == quality["n_steps"] + errors  # injected errors are not in the reference


def test_tools_are_json_schema_functions(clean: list[Record]) -> None:
    for tool in TOOLS.values():
        assert set(tool.schema) == {"name", "description", "parameters"}
        parameters = tool.schema["parameters"]
        assert parameters["type"] == "object" and parameters["additionalProperties"] is False
        assert set(parameters["required"]) <= set(parameters["properties"])
    for record in clean:
        backends = record["task"]["backends"]
        assert sorted(record["ground_truth"]["initial_state"]) == sorted(backends)
        assert {t["name"] for t in record["task"]["tools"]} == {n for n, t in TOOLS.items() if t.backend in backends}


def test_programs_are_long_multi_turn_and_data_dependent(clean: list[Record]) -> None:
    for record in clean:
        turns = record["ground_truth"]["turns"]
        assert 5 <= FAMILY.count_steps(record) <= 30
        assert 2 <= len(turns) <= 4 == FAMILY.default_params["max_turns"]
        assert len([m for m in record["trajectory"] if m["role"] == "user"]) == len(turns)
        assert record["ground_truth"]["required_outputs"]
    dependent = sum(any(c["depends_on"] for t in r["ground_truth"]["turns"] for c in t["calls"]) for r in clean)
    assert dependent >= 0.95 * len(clean)
    assert {r["subtype"] for r in clean} == set(FAMILY.subtypes)
    flags = {f for r in clean for f in r["quality"]["flags"]}
    assert {"error_recovery", "cross_turn_reference", "multi_backend", "parallel_calls"} <= flags


# ---------------------------------------------------------------- verifier on clean and tampered records


def test_clean_records_match_every_turn_and_output(clean: list[Record]) -> None:
    for record in clean:
        verdict = FAMILY.verify(record)
        assert verdict.metrics["turn_states_matched"] == 1.0 and verdict.metrics["outputs_found"] == 1.0


def test_state_changes_give_the_end_state_of_every_turn(clean: list[Record]) -> None:
    for record in clean[:30]:
        turns = record["ground_truth"]["turns"]
        states = end_states(record["ground_truth"]["initial_state"], turns)
        sim = Simulator(record["ground_truth"]["initial_state"])
        for turn, state in zip(turns, states):
            for call in turn["calls"]:
                assert "error" not in sim.call(call["name"], call["arguments"])
            assert sim.state == state
        assert states[0] != record["ground_truth"]["initial_state"] or not any(TOOLS[c["name"]].writes for c in turns[0]["calls"])


def test_tampered_ground_truth_is_a_reference_mismatch(clean: list[Record]) -> None:
    record = json.loads(json.dumps(clean[1]))
    output = record["ground_truth"]["required_outputs"][0]
    output["value"] = f"{output['value']}9"
    record["answer"] += f" {output['value']}"
    record["trajectory"][-1]["content"] = record["answer"]
    assert FAMILY.verify(record).first_check == "reference_mismatch"
    record = json.loads(json.dumps(clean[2]))
    record["ground_truth"]["turns"][0]["calls"].pop()  # the reference program departs from the trajectory
    assert "reference_mismatch" in [c for c, _ in FAMILY.verify(record).violations]
    record = json.loads(json.dumps(clean[3]))
    turn = next(t for t in record["ground_truth"]["turns"] if t["state_changes"])
    turn["state_changes"].append({"op": "set", "path": [record["subtype"], "invented"], "value": 1})
    checks = [c for c, _ in FAMILY.verify(record).violations]
    assert checks[0] == "reference_mismatch" and "end_state_mismatch" in checks


@pytest.mark.parametrize("mutate", [
    lambda r: None, lambda r: [], lambda r: {**r, "trajectory": "x"}, lambda r: {**r, "task": {}},
    lambda r: {**r, "ground_truth": {"turns": [None]}}, lambda r: {**r, "answer": 3},
    lambda r: {**r, "trajectory": r["trajectory"][:-1]}, lambda r: {**r, "trajectory": r["trajectory"] + [{"role": "tool"}]},
    lambda r: {**r, "trajectory": [{"role": "user", "content": "hi"}, {"role": "assistant", "tool_calls": [{"id": 1}]}]},
    lambda r: {**r, "trajectory": [{"role": "assistant", "content": ""}]},
    lambda r: {**r, "ground_truth": {**r["ground_truth"], "initial_state": {"files": 5, "bank": [], "tickets": {}, "orders": None}}},
    lambda r: {**r, "ground_truth": {**r["ground_truth"], "turns": [
        {**t, "state_changes": [{"op": "set", "path": ["nowhere", "x", "y"], "value": 1}]} for t in r["ground_truth"]["turns"]]}},
    lambda r: {**r, "ground_truth": {**r["ground_truth"], "required_outputs": [{"source": None, "value": 1}]}},
    lambda r: {**r, "ground_truth": {**r["ground_truth"], "required_outputs": [
        {"source": {"call": 0, "in": "arguments", "path": [], "extract": "field:nothing"}, "value": 1},
        {"source": {"call": 0, "in": "result", "path": [], "extract": "field:x"}, "value": 1}]}},
    lambda r: {**r, "trajectory": [m if m.get("role") != "tool" else {**m, "content": None} for m in r["trajectory"]]},
    lambda r: {**r, "trajectory": [m if not m.get("tool_calls") else {**m, "tool_calls": [
        {**c, "name": None, "arguments": "x"} for c in m["tool_calls"]]} for m in r["trajectory"]]},
])
def test_verifier_never_raises_on_bad_content(clean: list[Record], mutate: Any) -> None:
    verdict = FAMILY.verify(mutate(json.loads(json.dumps(clean[0]))))
    assert not verdict.passed and verdict.violations
    assert all(check in verifier.CHECKS for check, _ in verdict.violations)


def test_random_corruption_never_raises(clean: list[Record]) -> None:
    """Overwrite or delete random fields anywhere in a record: verify and the filter hooks still answer."""
    rng = random.Random(5)
    junk = [None, 0, -1, "x", "", [], {}, [1, 2], {"a": 1}, True, 3.5, "call_1", {"op": "append", "path": ["x"]}]

    def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        return [prefix] + [p for key, item in items for p in paths(item, prefix + (key,))]

    for _ in range(300):
        record = json.loads(json.dumps(rng.choice(clean[:20])))
        for _ in range(rng.randint(1, 3)):
            *parents, last = rng.choice(paths(record)[1:])
            target = record
            for key in parents:
                target = target[key]
            if isinstance(target, dict) and rng.random() < 0.3:
                del target[last]
            elif isinstance(target, (dict, list)):
                target[last] = rng.choice(junk)
        verdict = FAMILY.verify(record)
        assert all(check in verifier.CHECKS for check, _ in verdict.violations)
        FAMILY.count_steps(record), FAMILY.structural_signature(record), FAMILY.contradiction(record)


def test_verifier_is_independent_of_the_generator() -> None:
    """The verifier may use the environment (the world) but no generator code path."""
    allowed = ("planfusion.tasks.family", "planfusion.tasks.tool_execution.env")
    tree = ast.parse((PACKAGE / "verifier.py").read_text())
    imported = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module.startswith("planfusion")]
    imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert imported and all(m.startswith(allowed) for m in imported if m.startswith("planfusion")), imported
    env_imports = [n.module for path in (PACKAGE / "env").glob("*.py")
                   for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.ImportFrom)]
    assert all(not m.startswith("planfusion") or m.startswith("planfusion.tasks.tool_execution.env") for m in env_imports)


# ---------------------------------------------------------------- negatives


@pytest.mark.parametrize("kind", [p.kind for p in FAMILY.perturbations])
def test_every_perturbation_applies_to_nearly_every_record(clean: list[Record], kind: str) -> None:
    """Beyond the contract (caught by its check): each kind applies to 90% of records of every subtype."""
    sample = clean[::5]  # 60 records, every subtype
    negatives = _negatives(sample, kind)
    assert len(negatives) >= 0.9 * len(sample), f"{kind} applied to only {len(negatives)} of {len(sample)}"


def test_too_few_calls_is_padded_by_injected_errors(clean: list[Record]) -> None:
    negatives = _negatives(clean[:40], "too_few_calls")
    assert all(FAMILY.count_steps(n) <= 4 for n in negatives)
    assert any(n["quality"]["n_tool_calls"] > FAMILY.count_steps(n) for n in negatives)


# ---------------------------------------------------------------- simulator


def test_simulator_errors_leave_state_untouched() -> None:
    world = {"bank": {"accounts": {"AC-1": {"id": "AC-1", "owner": "A B", "balance": 50, "frozen": False},
                                   "AC-2": {"id": "AC-2", "owner": "C D", "balance": 0, "frozen": True}},
                      "transactions": [], "next_id": 7}}
    sim = Simulator(world)
    assert sim.call("transfer", {"from_account": "AC-1", "to_account": "AC-2", "amount": 10, "memo": "m"}) == {
        "error": "account AC-2 is frozen"}
    assert sim.call("transfer", {"from_account": "AC-1", "to_account": "AC-9", "amount": 10, "memo": "m"})["error"]
    assert sim.call("deposit", {"account_id": "AC-1", "amount": "10", "memo": "m"})["error"].startswith("argument 'amount'")
    assert sim.call("get_ticket", {"ticket_id": "T-1"}) == {"error": "tool get_ticket is not available in this environment"}
    assert sim.state == world and sim.state is not world
    assert sim.call("deposit", {"account_id": "AC-1", "amount": 5, "memo": "m"}) == {"transaction_id": "TX-7", "balance": 55}
    assert sim.call("deposit", {"account_id": "AC-1", "amount": 5, "memo": "m"})["transaction_id"] == "TX-8"


def test_schema_check_names_each_problem() -> None:
    parameters = TOOLS["create_order"].schema["parameters"]
    problems = validate_arguments(parameters, {"customer": 3, "items": [{"sku": "S", "quantity": 0, "x": 1}], "rush": True})
    assert sorted(c for c, _ in problems) == ["argument_type", "argument_type", "extra_argument", "extra_argument"]
    assert any("items[0].quantity" in detail for _, detail in problems)
    assert [c for c, _ in validate_arguments(parameters, {})] == ["missing_argument", "missing_argument"]
    status = TOOLS["update_status"].schema["parameters"]
    assert validate_arguments(status, {"ticket_id": "T-1", "status": "gone"})[0][0] == "argument_type"


# ---------------------------------------------------------------- variety, signatures, params


def test_variety() -> None:
    records = list(FAMILY.generate(1000, 0))
    assert len({content_hash(r) for r in records}) >= 990
    assert len({FAMILY.structural_signature(r) for r in records}) >= 900


def test_signature_ignores_entity_values(clean: list[Record]) -> None:
    record = json.loads(json.dumps(clean[3]))
    signature = FAMILY.structural_signature(record)
    for turn in record["ground_truth"]["turns"]:
        for call in turn["calls"]:
            call["arguments"] = {k: f"renamed-{k}" for k in call["arguments"]}
    assert FAMILY.structural_signature(record) == signature
    record["ground_truth"]["turns"][0]["calls"][0]["name"] = "other_tool"
    assert FAMILY.structural_signature(record) != signature


def test_params() -> None:
    records = list(FAMILY.generate(40, 3, {"subtypes": ["bank"], "min_calls": 6, "max_calls": 8, "max_turns": 2,
                                           "error_rate": 0}))
    assert {r["subtype"] for r in records} == {"bank"}
    assert all(6 <= FAMILY.count_steps(r) <= 8 and len(r["ground_truth"]["turns"]) == 2 for r in records)
    assert all(r["quality"]["n_errors_recovered"] == 0 and FAMILY.verify(r).passed for r in records)


@pytest.mark.parametrize("params, message", [
    ({"max_calls": 0}, "'max_calls'"), ({"min_calls": 9, "max_calls": 8}, "min_calls (9)"),
    ({"error_rate": 2}, "'error_rate'"), ({"subtypes": ["chess"]}, "'subtypes'"), ({"subtypes": []}, "'subtypes'"),
    ({"max_turns": True}, "'max_turns'"), ({"min_turns": 6, "max_turns": 6, "min_calls": 5}, "min_turns (6)"),
])
def test_bad_params_are_clear_errors(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        FAMILY.generate(1, 0, params)
