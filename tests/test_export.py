"""The training files: every example self-contained (tools shown, system prompt), validated before it is
written, and loadable by Hugging Face `datasets` with every column round-tripping."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from datasets import load_dataset

from planfusion.export import build_examples, example_problems, training_example, write_exports
from planfusion.tasks import FAMILIES, get_family


def _pairs(n: int = 12, seed: int = 31337) -> list[tuple[dict, dict]]:
    records = [r for family in FAMILIES for r in get_family(family).generate(n, seed)]
    return [(r, {"fusion_step": i + 1, "novelty": 0.5 * i}) for i, r in enumerate(records)]


def test_every_generated_example_is_valid_and_tool_examples_show_their_tools() -> None:
    pairs = _pairs()
    examples, dropped = build_examples(pairs)
    assert dropped == {} and len(examples) == len(pairs)
    for example in examples:
        assert example["messages"][0]["role"] == "system" and example["messages"][0]["content"]
        tools = json.loads(example["tools"])
        called = {c["function"]["name"] for m in example["messages"] for c in m["tool_calls"] or []}
        assert called <= {t["function"]["name"] for t in tools}
        assert bool(tools) == (example["family"] == "tool_execution")
        assert all(t["type"] == "function" and t["function"]["parameters"]["type"] == "object" for t in tools)


def _tool_example() -> tuple[dict, dict]:
    record = next(r for r, _ in _pairs(2) if r["family"] == "tool_execution")
    return training_example(record, {"fusion_step": 1, "novelty": 0.0}), record


def _first_call(example: dict) -> dict:
    return next(c for m in example["messages"] for c in m["tool_calls"] or [])


@pytest.mark.parametrize("breakage, expected", [
    (lambda e, r: _first_call(e)["function"].update(name="launch_rockets"), "not among the tools shown"),
    (lambda e, r: _first_call(e)["function"].update(arguments='{"nonsense": 1}'), "break its schema"),
    (lambda e, r: _first_call(e)["function"].update(arguments="{not json"), "not JSON"),
    (lambda e, r: e["messages"].pop(next(i for i, m in enumerate(e["messages"]) if m["role"] == "tool")),
     "never answered"),
    (lambda e, r: next(m for m in e["messages"] if m["role"] == "tool").update(tool_call_id="call_999"),
     "answers no open call"),
    (lambda e, r: e["messages"].pop(0), "system prompt"),
    (lambda e, r: e["messages"].pop(), "final reply"),
    (lambda e, r: e["messages"][1].update(content=e["messages"][1]["content"] + json.dumps(
        r["ground_truth"].setdefault("secret_plan", {"steps": ["x" * 30, "y" * 30]}), sort_keys=True,
        separators=(",", ":"))), "hidden ground_truth.secret_plan"),
    (lambda e, r: e["messages"][2].pop("name"), "keys"),
    (lambda e, r: r["trajectory"][-1].update(content="Moved the the files."), "text hygiene: doubled_word"),
])
def test_a_broken_example_is_named_and_dropped(breakage, expected: str) -> None:
    example, record = _tool_example()
    record = copy.deepcopy(record)
    assert example_problems(example, record) == []
    breakage(example, record)
    problems = example_problems(example, record)
    assert any(expected in p for p in problems), problems


def test_files_round_trip_through_hugging_face_datasets(tmp_path: Path) -> None:
    examples, _ = build_examples(_pairs(6))
    files = write_exports(examples, tmp_path)
    for kind, path in (("json", files["jsonl"]), ("parquet", files["parquet"])):
        loaded = load_dataset(kind, data_files=path, split="train", cache_dir=str(tmp_path / "hf_cache"))
        assert loaded.to_list() == examples, kind
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["fused_training_set.jsonl",
                                                                          "fused_training_set.parquet"]
