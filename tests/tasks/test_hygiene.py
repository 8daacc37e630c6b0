"""Text hygiene: each kind of template slip is caught, clean generated-looking text passes, and a record
is checked in the fields a solver sees or the model writes, not in its ground truth."""

from __future__ import annotations

import pytest

from planfusion.tasks.hygiene import KINDS, record_problems, text_problems

CLEAN = (
    "Announce the launch of the Fern meal kit internally.",
    "Sub-goals:\n1. Design: 1) Adapt a catalogue layout; 2) Price the conservatory\n   1.1. Testing: 3) Run tests",
    "Node:\n1: Triage the open issues for 1.9.2\n2: Cut the release branch\nEdge: (START,1) (1,2) (2,END)",
    "Answer in this format: (START,1) (1,2) ... (n,END)",
    'The note says "Clean the returns data" comes first; keep Plan A.',
    "Find files ending in .txt in /projects/beacon; no product with sku SKU-174; meet at 9 a.m. sharp.",
    "Write the list\nlist the items",  # a repeat across lines is two list entries, not a doubled word
    "Purchasing needs a low-stock list (threshold 5) in /reports/low-stock-5.txt.",  # a number, then ") "
    "The call was refused (insufficient funds in AC-1722: balance 550) because of an extra digit.",
    "Steps: 1) plan (in 2 parts) 2) build",
)


@pytest.mark.parametrize("text", CLEAN)
def test_clean_text_passes(text: str) -> None:
    assert text_problems(text) == []


@pytest.mark.parametrize("kind, text", [
    ("doubled_word", "Announce the the Fern meal kit launch internally"),
    ("doubled_word", "The the plan is ready."),
    ("doubled_word", "He said that that plan works."),  # no whitelist: reword the template instead
    ("dangling_article", "Book a."),
    ("dangling_article", "Send the , then wait."),
    ("dangling_article", "Pick the\nnext line"),
    ("dangling_article", "We need an"),
    ("unbalanced_quotes", '"Clean the data" has to finish before "Merge the tables starts.'),
    ("unbalanced_quotes", "\u201cClean the data comes first."),
    ("unbalanced_brackets", "Edge: (START,1 (1,2)"),
    ("unbalanced_brackets", "the list] of things"),
    ("unbalanced_brackets", "mixed (pairs]"),
    ("unbalanced_brackets", "keep (threshold 5) here) and there"),
    ("double_space", "Book  the flight."),
    ("space_before_punctuation", "Book the flight , then the hotel."),
    ("space_before_punctuation", "It is done ."),
])
def test_each_kind_is_caught(kind: str, text: str) -> None:
    assert kind in KINDS
    assert kind in [k for k, _ in text_problems(text)]


def test_problems_quote_where_they_are() -> None:
    (kind, excerpt), = text_problems("Step 4 needs the the report from step 2")
    assert kind == "doubled_word" and "the the report" in excerpt


def test_record_problems_cover_visible_fields_only() -> None:
    record = {
        "task": {"instruction": "Plan it.", "actions": [{"action": "Book  the hotel", "needs": ["the the map"]}]},
        "ground_truth": {"nodes": ["Book the the hotel"]},
        "trajectory": [{"role": "user", "content": "Plan it."},
                       {"role": "assistant", "content": "Done .", "think": "I need a", "tool_calls": []}],
        "answer": "Done .",
        "text": "Plan it.\n\nDone .",
    }
    found = {(where, kind) for where, kind, _ in record_problems(record)}
    assert found == {("task.actions[0].action", "double_space"), ("task.actions[0].needs[0]", "doubled_word"),
                     ("trajectory[1].content", "space_before_punctuation"), ("trajectory[1].think", "dangling_article")}
    assert len(record_problems(record)) == 4  # the answer repeats the last message: reported once
    assert record_problems({"task": None, "trajectory": "junk", "answer": 3}) == []
