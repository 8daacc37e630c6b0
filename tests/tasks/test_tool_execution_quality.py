"""tool_execution as SFT data (issue #12): what a solver sees hides the world, requests make sense together,
replies read like an assistant, recovery explanations name the real slip, texts vary and are clean.

Measured on 2,000 records of a master seed no other test uses.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterator

import pytest

from planfusion.tasks.record import canonical_json
from planfusion.tasks.tool_execution import FAMILY, coherence
from planfusion.tasks.tool_execution.variety import variety

Record = dict[str, Any]
SEED, N = 90210, 2000
WORLD_KEYS = {"initial_state", "dirs", "files", "tickets", "agents", "accounts", "transactions", "products", "orders",
              "next_id"}
_ID = re.compile(r"\b[A-Z]+-\d+\b")
_PATH = re.compile(r"(?<![\w/])/[\w./-]*\w")
_WORD = re.compile(r"[\w-]+(?:\.\w+)*")


@pytest.fixture(scope="module")
def sample() -> list[Record]:
    return list(FAMILY.generate(N, SEED))


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item)


def _says(text: str, value: str) -> bool:
    """``value`` occurs in ``text`` as a whole token (not inside a longer id, word or number)."""
    return any(not _glued(text[i - 1:i]) and not _glued(text[i + len(value):i + len(value) + 1])
               for i in (m.start() for m in re.finditer(re.escape(value), text)))


def _glued(char: str) -> bool:
    return char != "" and (char.isalnum() or char in "_-")


def _failed(trajectory: list[dict[str, Any]], i: int) -> bool:
    """Message i issued a call that failed (an injected slip)."""
    return bool(trajectory[i].get("tool_calls")) and '"error"' in trajectory[i + 1]["content"]


# ---------------------------------------------------------------- 1. hidden state stays hidden


def test_task_holds_no_world_state(sample: list[Record]) -> None:
    for record in sample:
        task = record["task"]
        assert set(task) == {"instruction", "backends", "tools"}, record["id"]
        assert not WORLD_KEYS & set(_keys(task)), record["id"]
        blob = canonical_json(task)
        for backend in record["ground_truth"]["initial_state"].values():
            for part in backend.values():
                assert not isinstance(part, (dict, list)) or not part or canonical_json(part) not in blob


def test_assistant_uses_only_what_it_was_told_or_observed(sample: list[Record]) -> None:
    """Every id and path component the assistant writes (reasoning, replies, arguments of calls that
    succeed) appeared earlier in the conversation; directories are checked with a tool before creating."""
    for record in sample:
        trajectory, seen = record["trajectory"], set()
        for i, message in enumerate(trajectory):
            if message["role"] != "assistant":
                seen.update(_WORD.findall(message["content"]))
                continue
            after_slip = trajectory[i - 1]["role"] == "tool" and '"error"' in trajectory[i - 1]["content"]
            texts = [message.get("think") or "", message["content"]]
            if not _failed(trajectory, i):
                texts += [json.dumps(c["arguments"]) for c in message.get("tool_calls", ())]
            for text in texts if not after_slip else ():
                assert seen.issuperset(_ID.findall(text)), (record["id"], text)
                for path in _PATH.findall(text):
                    assert seen.issuperset(c for c in path.split("/") if c), (record["id"], path, text)
            for call in message.get("tool_calls", ()):
                if call["name"] == "make_dir":
                    parent, _, name = call["arguments"]["path"].rpartition("/")
                    listing = json.loads(trajectory[i - 1]["content"])
                    assert listing.get("path") == (parent or "/") and name + "/" not in listing["entries"], record["id"]
            seen.update(_WORD.findall((message.get("think") or "") + "\n" + message["content"]))


# ---------------------------------------------------------------- 2. requests that make sense together


def _program(world: dict[str, Any], *calls: tuple[str, dict[str, Any]]) -> Record:
    return {"ground_truth": {"initial_state": world, "turns": [
        {"calls": [{"name": name, "arguments": arguments} for name, arguments in calls]}]}}


_FILES = {"files": {"dirs": ["/a", "/b"], "files": {"/a/x.txt": "build: 1\n"}}}
_DESK = {"tickets": {"tickets": {"T-1": {"id": "T-1", "title": "t", "customer": "C D", "status": "open", "priority": "low",
                                         "assignee": None, "tags": [], "comments": []}},
                     "agents": {"bea": {"team": "x"}, "cal": {"team": "x"}}, "next_id": 2}}
_BANK = {"bank": {"accounts": {a: {"id": a, "owner": "A B", "balance": 100, "frozen": False} for a in ("AC-1", "AC-2")},
                  "transactions": [], "next_id": 1}}


@pytest.mark.parametrize("program, kind", [
    (_program(_FILES, ("move_file", {"source": "/a/x.txt", "destination": "/b"}),
              ("move_file", {"source": "/b/x.txt", "destination": "/a"})), "revert"),
    (_program(_DESK, ("assign_ticket", {"ticket_id": "T-1", "assignee": "bea"}),
              ("assign_ticket", {"ticket_id": "T-1", "assignee": "cal"})), "overruled"),
    (_program(_DESK, ("create_ticket", {"title": "n", "customer": "C D", "priority": "low"}),
              ("update_status", {"ticket_id": "T-2", "status": "closed"})), "retired"),
    (_program(_BANK, ("transfer", {"from_account": "AC-1", "to_account": "AC-2", "amount": 5, "memo": "m"}),
              ("transfer", {"from_account": "AC-2", "to_account": "AC-1", "amount": 5, "memo": "back"})), "unchanged"),
])
def test_detector_finds_each_kind_of_undo(program: Record, kind: str) -> None:
    assert any(line.startswith(kind + ":") for line in coherence.self_cancelling(program))


@pytest.mark.parametrize("program", [
    _program(_FILES, ("write_file", {"path": "/a/x.txt", "content": "build: 2\n", "overwrite": True}),
             ("write_file", {"path": "/a/x.txt", "content": "build: 3\n", "overwrite": True})),  # builds on it
    _program(_DESK, ("assign_ticket", {"ticket_id": "T-1", "assignee": "bea"}),
             ("update_status", {"ticket_id": "T-1", "status": "resolved"})),  # a ticket's life, not an undo
    _program(_BANK, ("deposit", {"account_id": "AC-1", "amount": 5, "memo": "m"}),
             ("transfer", {"from_account": "AC-2", "to_account": "AC-1", "amount": 5, "memo": "m"})),
])
def test_detector_lets_progress_pass(program: Record) -> None:
    assert coherence.self_cancelling(program) == []


def test_no_self_cancelling_requests(sample: list[Record]) -> None:
    flagged = {r["id"]: found for r in sample if (found := coherence.self_cancelling(r))}
    assert len(flagged) <= 0.0025 * len(sample), (len(flagged), list(flagged.items())[:3])


# ---------------------------------------------------------------- 3. replies read like an assistant


_KEY_COLON = re.compile(r"\b[A-Za-z0-9]+(?:_[A-Za-z0-9]+)+\s*[:=]")


def test_replies_are_plain_language(sample: list[Record]) -> None:
    """No assistant text (reply or reasoning) shows key names: no "reviewer_to_ping: Zara Costa", no
    "Results:" block, no output key at all; every required value is said in its own turn's reply."""
    for record in sample:
        outputs = record["ground_truth"]["required_outputs"]
        keys = [o["name"] for o in outputs if "_" in o["name"]]
        replies = [m for m in record["trajectory"] if m["role"] == "assistant" and not m.get("tool_calls")]
        for message in (m for m in record["trajectory"] if m["role"] == "assistant"):
            for text in (message["content"], message.get("think") or ""):
                assert not _KEY_COLON.search(text), (record["id"], text)
                assert "Results:" not in text and not any(k in text for k in keys), text
        for output in outputs:
            assert _says(replies[output["turn"]]["content"], str(output["value"])), (record["id"], output)


# ---------------------------------------------------------------- 4. recovery explanations name the real slip


def _slip(wrong: Any, right: Any) -> str | None:
    """What turned ``right`` into ``wrong``, told apart from the two values alone; the words the
    explanation must use for it follow "|"."""
    if isinstance(right, int):
        return "extra digit|extra digit" if str(wrong)[:-1] == str(right) else None
    if wrong == right.lower():
        return "lower case|lower case"
    if " " in right and wrong == right.split(" ")[0]:
        return "first name|first name"
    if wrong == right + "s":
        return "stray s|'s'"
    if wrong == right[:-1]:
        return "last letter|last letter"
    if _ID.fullmatch(right) and len(wrong) == len(right):
        if wrong[:-2] == right[:-2] and wrong[-2:] == right[:-3:-1]:
            return "swapped|swapped the last two digits"
        if wrong[:-1] == right[:-1]:
            return "last digit|last digit of the"
    if right.startswith("/"):
        right_head, _, right_name = right.rpartition("/")
        if wrong.rpartition("/")[0] == right_head and wrong.partition(".")[0] == right.partition(".")[0]:
            return f"extension|.{wrong.rpartition('.')[2]} instead of .{right.rpartition('.')[2]}"
        outer, _, folder = right_head.rpartition("/")
        if wrong == f"{outer}/{right_name}":
            return f"dropped folder|folder '{folder}' out of"
    return None


def _injected(record: Record) -> Iterator[tuple[dict[str, Any], dict[str, Any], str, str, str]]:
    """(failed call, retry, error, explanation, text seen before the retry) for every injected error."""
    trajectory = record["trajectory"]
    for i, message in enumerate(trajectory):
        if message["role"] == "tool" and '"error"' in message["content"]:
            before = "\n".join(m["content"] for m in trajectory[:i] if m["role"] == "tool")
            yield (trajectory[i - 1]["tool_calls"][0], trajectory[i + 1]["tool_calls"][0],
                   json.loads(message["content"])["error"], trajectory[i + 1]["think"], before)


def test_recovery_explains_the_injected_error(sample: list[Record]) -> None:
    kinds: dict[str, int] = {}
    for record in sample:
        for failed, retry, error, explanation, before in _injected(record):
            changed = [k for k in retry["arguments"] if failed["arguments"][k] != retry["arguments"][k]]
            assert len(changed) == 1, (record["id"], failed, retry)
            wrong, right = failed["arguments"][changed[0]], retry["arguments"][changed[0]]
            kind = _slip(wrong, right)
            assert kind is not None, (record["id"], wrong, right)
            name, words = kind.split("|")
            kinds[name] = kinds.get(name, 0) + 1
            assert error in explanation and words in explanation, (record["id"], wrong, right, explanation)
            assert str(wrong) in explanation and str(right) in explanation, explanation
            assert changed[0] not in explanation or "_" not in changed[0], explanation  # "ticket id", not "ticket_id"
            if "earlier result" in explanation:
                assert str(right) in before, explanation
    assert sum(kinds.values()) >= 500 and len(kinds) >= 7, kinds


# ---------------------------------------------------------------- 5. variety


def test_requests_are_varied_and_cross_backend_records_link_backends(sample: list[Record]) -> None:
    """Base commit: 38 kinds with 2 wordings, distinct 3-gram ratio 0.14, a value flowing between backends
    in 67% of cross_backend records."""
    figures = variety(sample)
    assert figures["request_kinds"] >= 70 and figures["request_templates"] >= 250, figures
    assert figures["distinct_3gram_ratio"] >= 0.17, figures
    assert figures["cross_backend_touched"] == 1.0 and figures["cross_backend_linked"] >= 0.99, figures
    wordings: dict[str, set[int]] = {}
    uses: dict[str, int] = {}
    for record in sample:
        for turn in record["ground_truth"]["turns"]:
            for request in turn["requests"]:
                wordings.setdefault(request["kind"], set()).add(request["wording"])
                uses[request["kind"]] = uses.get(request["kind"], 0) + 1
    assert all(len(wordings[kind]) >= 3 for kind in wordings if uses[kind] >= 10), {
        kind: sorted(found) for kind, found in wordings.items() if len(found) < 3}


# ---------------------------------------------------------------- 6. texts: what the shared hygiene check leaves out
# (doubled words, dangling articles, double quotes, brackets and spacing are planfusion.tasks.hygiene's, run by
# the contract suite)


_SLIPS = {
    "'a' before a vowel": re.compile(r"\ba\s+(?=[aeiou])(?!u[sn]i|one\b)", re.IGNORECASE),
    "'(s)' plural": re.compile(r"\w\(s\)"),
}
_QUOTE = re.compile(r"(?<![^\W_])'|'(?![^\W_])")  # a ' not inside a word (an apostrophe is)


def _visible_texts(record: Record) -> Iterator[str]:
    """Instruction, answer, and the content and reasoning of every non-tool message (tool results are JSON)."""
    yield record["task"]["instruction"]
    yield record["answer"]
    for message in record["trajectory"]:
        if message["role"] != "tool":
            yield message["content"]
            yield message.get("think") or ""


def test_model_visible_text_is_clean(sample: list[Record]) -> None:
    found: dict[str, str] = {}
    for record in sample:
        for text in _visible_texts(record):
            for name, pattern in _SLIPS.items():
                match = pattern.search(text)
                if match:
                    found.setdefault(name, text[max(0, match.start() - 40):match.end() + 40])
            if len(_QUOTE.findall(text)) % 2:
                found.setdefault("unpaired single quote", text[:200])
    assert not found, found
