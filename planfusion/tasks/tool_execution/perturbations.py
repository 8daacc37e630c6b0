"""Negatives: realistic wrong or low-quality variants of a clean record, each with the one check meant to catch it.

Edits that change calls replay the edited trajectory, so its observations stay truthful and the
fault is exactly the intended one (a skipped write shows up as a wrong end state, not as an
invented observation). Candidates are tried in a seeded order; ``apply`` returns None when no
candidate in the record fits the kind.
"""

from __future__ import annotations

import json
import random
import re
from typing import Any, Callable, Iterator

from planfusion.tasks.family import Perturbation, Record
from planfusion.tasks.record import build_record
from planfusion.tasks.tool_execution.answer_format import REPORT_MARK, parse_closing_think
from planfusion.tasks.tool_execution.env import TOOLS, Simulator, copy_state
from planfusion.tasks.tool_execution.generator import build
from planfusion.tasks.tool_execution.scenarios.errors import wrong_variants
from planfusion.tasks.tool_execution.trajectory import observation_text

Site = tuple[int, int]  # (message index, position in its tool_calls)
_ID = re.compile(r"^([A-Z]+-)\d+$")
_FREE_TEXT = ("memo", "text", "content", "title", "contains", "query")
_ALIASES = {"ticket_id": "id", "account_id": "account", "order_id": "order", "path": "file", "sku": "product_id",
            "customer": "customer_name", "owner": "owner_name", "assignee": "agent", "from_account": "source_account",
            "to_account": "target_account", "amount": "value", "directory": "dir", "source": "src",
            "destination": "dest", "status": "new_status", "priority": "level", "threshold": "below"}
_VERBS = (("get_", "fetch_"), ("list_", "show_"), ("search_", "find_"), ("create_", "new_"), ("update_", "change_"))


# ------------------------------------------------------------------ shared plumbing


def _derive(record: Record, kind: str, trajectory: list[dict[str, Any]], correct: bool = False) -> Record:
    """The negative as a record of its own: same task and ground truth, edited trajectory and answer."""
    answer = trajectory[-1].get("content", "")
    lineage = record["lineage"]
    n_calls = sum(len(m.get("tool_calls") or ()) for m in trajectory)
    return build_record(
        family=record["family"], subtype=record["subtype"], task=copy_state(record["task"]),
        ground_truth=copy_state(record["ground_truth"]), trajectory=trajectory, answer=answer,
        difficulty=copy_state(record["difficulty"]),
        quality={**copy_state(record["quality"]), "n_tool_calls": n_calls, "answer_correct": correct},
        generator=lineage["generator"], version=lineage["generator_version"], master_seed=lineage["master_seed"],
        index=lineage["index"], seed=lineage["seed"], params=copy_state(lineage["params"]),
        text=record["text"].replace(record["answer"], answer, 1), parent_id=record["id"], perturbation=kind,
    )


def _sites(trajectory: list[dict[str, Any]], test: Callable[[dict[str, Any], int], bool]) -> list[Site]:
    return [(i, j) for i, m in enumerate(trajectory) if m.get("role") == "assistant"
            for j, call in enumerate(m.get("tool_calls") or ()) if test(call, i)]


def _is_retry(trajectory: list[dict[str, Any]], i: int) -> bool:
    """Message i follows a failed call (it is the corrected attempt of an injected error)."""
    before = trajectory[i - 1]
    return before.get("role") == "tool" and '"error"' in before.get("content", "")


def _writes(trajectory: list[dict[str, Any]]) -> list[Site]:
    """State-changing calls that succeeded at the first attempt (no injected error before or in them)."""
    return _sites(trajectory, lambda c, i: TOOLS[c["name"]].writes and not _is_retry(trajectory, i)
                  and '"error"' not in _result_of(trajectory, c["id"]))


def _replay(initial: dict[str, Any], trajectory: list[dict[str, Any]]) -> tuple[list[str], list[dict[str, Any]]]:
    """Re-execute the calls in place (tool messages get the true results); (ids of failed calls, end state per turn)."""
    sim = Simulator(initial)
    results: dict[str, dict[str, Any]] = {}
    ends: list[dict[str, Any]] = []
    errors: list[str] = []
    started = False
    for message in trajectory:
        if message["role"] == "user":
            if started:
                ends.append(copy_state(sim.state))  # the end of the previous turn
            started = True
        for call in message.get("tool_calls") or ():
            results[call["id"]] = sim.call(call["name"], call["arguments"])
            if "error" in results[call["id"]]:
                errors.append(call["id"])
        if message["role"] == "tool":
            message["content"] = observation_text(results[message["tool_call_id"]])
    ends.append(copy_state(sim.state))
    return errors, ends


def _self_consistent(record: Record, trajectory: list[dict[str, Any]], new_errors: bool) -> bool:
    """Replay ``trajectory`` in place; True if some turn now ends in another state and, besides the calls
    that failed before, new calls fail (``new_errors``) or none do (not ``new_errors``)."""
    initial = record["ground_truth"]["initial_state"]
    base_errors, base_ends = _replay(initial, copy_state(record["trajectory"]))
    errors, ends = _replay(initial, trajectory)
    if ends == base_ends or not set(base_errors) <= set(errors):
        return False
    return (len(errors) > len(base_errors)) == new_errors


def _drop_call(trajectory: list[dict[str, Any]], site: Site) -> list[dict[str, Any]]:
    i, j = site
    out = copy_state(trajectory)
    call_id = out[i]["tool_calls"][j]["id"]
    del out[i]["tool_calls"][j]
    out = [m for m in out if not (m.get("role") == "tool" and m.get("tool_call_id") == call_id)]
    return [m for m in out if not (m.get("role") == "assistant" and "tool_calls" in m and not m["tool_calls"])]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _shape(text: str) -> str | None:
    match = _ID.match(text)
    if match:
        return match.group(1)
    if text.startswith("/"):
        return "/"
    if text.islower() and text.isalpha():
        return "word"
    words = text.split(" ")
    if len(words) == 2 and all(w[:1].isupper() and w[1:].islower() for w in words):
        return "name"
    return None


def _alternatives(record: Record, value: Any, spec: dict[str, Any], rng: random.Random) -> list[Any]:
    """Other well-typed values an agent could plausibly have passed instead of ``value``."""
    if "enum" in spec:
        options = [v for v in spec["enum"] if v != value]
    elif isinstance(value, bool):
        options = [not value]
    elif isinstance(value, int):
        options = [value + d for d in (1, -1, 10, -10, 5) if value + d >= spec.get("minimum", value + d)]
    elif isinstance(value, str) and _shape(value) is not None:
        shape = _shape(value)
        seen = dict.fromkeys(s for s in _strings(record["ground_truth"]["initial_state"]) if s != value and _shape(s) == shape)
        options = list(seen)
    else:
        options = []
    rng.shuffle(options)
    return options[:6]


# ------------------------------------------------------------------ the kinds


def skipped_write(record: Record, rng: random.Random) -> Record | None:
    """The agent never issues one state-changing call (yet reports the work as done)."""
    sites = _writes(record["trajectory"])
    for site in rng.sample(sites, len(sites)):
        trajectory = _drop_call(record["trajectory"], site)
        if _self_consistent(record, trajectory, new_errors=False):
            return _derive(record, "skipped_write", trajectory)
    return None


def wrong_argument(record: Record, rng: random.Random) -> Record | None:
    """A state-changing call with a plausible but wrong value (other id, amount, status); it succeeds."""
    sites = _writes(record["trajectory"])
    for i, j in rng.sample(sites, len(sites)):
        call = record["trajectory"][i]["tool_calls"][j]
        properties = TOOLS[call["name"]].schema["parameters"]["properties"]
        for key in sorted(k for k in call["arguments"] if k not in _FREE_TEXT and k in properties):
            for other in _alternatives(record, call["arguments"][key], properties[key], rng):
                trajectory = copy_state(record["trajectory"])
                trajectory[i]["tool_calls"][j]["arguments"][key] = other
                if _self_consistent(record, trajectory, new_errors=False):
                    return _derive(record, "wrong_argument", trajectory)
    return None


def invented_observation(record: Record, rng: random.Random) -> Record | None:
    """A tool result that did not happen: one number or id in a successful observation is made up."""
    trajectory = copy_state(record["trajectory"])
    tools = [m for m in trajectory if m.get("role") == "tool" and '"error"' not in m["content"]]
    for message in rng.sample(tools, len(tools)):
        result = json.loads(message["content"])
        leaves = [k for k, v in result.items() if isinstance(v, int) and not isinstance(v, bool)]
        leaves += [k for k, v in result.items() if isinstance(v, str) and _ID.match(v)]
        if leaves:
            key = rng.choice(leaves)
            value = result[key]
            result[key] = value + rng.randint(1, 9) if isinstance(value, int) else _other_id(value, rng)
            message["content"] = observation_text(result)
            return _derive(record, "invented_observation", trajectory)
    return None


def success_after_error(record: Record, rng: random.Random) -> Record | None:
    """A state-changing call fails, is never retried, and the reply still reports success."""
    trajectory = record["trajectory"]
    sites = _writes(trajectory)
    for i, j in rng.sample(sites, len(sites)):
        call = trajectory[i]["tool_calls"][j]
        if _retried_later(trajectory, i, j, call["name"]):
            continue
        for wrong, _, _ in wrong_variants(call["name"], call["arguments"], rng):
            edited = copy_state(trajectory)
            edited[i]["tool_calls"][j]["arguments"] = wrong
            if _self_consistent(record, edited, new_errors=True) and '"error"' in _result_of(edited, call["id"]):
                return _derive(record, "success_after_error", edited)
    return None


def too_few_calls(record: Record, rng: random.Random) -> Record | None:
    """The same world with a 2-4 call program, padded with injected errors and their retries."""
    lineage = record["lineage"]
    knobs = {**lineage["params"], "min_calls": 2, "max_calls": 4, "min_turns": 1, "max_turns": 2,
             "error_rate": 1.0, "max_errors": 2}
    return build(lineage["seed"], record["subtype"], knobs, master_seed=lineage["master_seed"],
                 index=lineage["index"], params=lineage["params"], parent_id=record["id"], perturbation="too_few_calls")


def loop(record: Record, rng: random.Random) -> Record | None:
    """A read issued again right after itself: same arguments, same result, nothing changed in between."""
    trajectory = record["trajectory"]
    reads = [i for i, _ in _sites(trajectory, lambda c, i: not TOOLS[c["name"]].writes)
             if len(trajectory[i]["tool_calls"]) == 1 and '"error"' not in trajectory[i + 1]["content"]]
    if not reads:
        return None
    i = rng.choice(reads)
    n_calls = sum(len(m.get("tool_calls") or ()) for m in trajectory)
    again = copy_state(trajectory[i])
    again["think"] = "Let me run that once more to be sure."
    again["tool_calls"][0]["id"] = f"call_{n_calls + 1}"
    result = {**trajectory[i + 1], "tool_call_id": f"call_{n_calls + 1}"}
    edited = copy_state(trajectory[:i + 2]) + [again, result] + copy_state(trajectory[i + 2:])
    return _derive(record, "loop", edited, correct=True)


def contradiction(record: Record, rng: random.Random) -> Record | None:
    """The reasoning that closes a turn concludes a different value than its reply reports."""
    trajectory = copy_state(record["trajectory"])
    closing = [i for i in _replies(trajectory) if parse_closing_think(trajectory[i].get("think", ""))]
    if not closing:
        return None
    message = trajectory[rng.choice(closing)]
    stated = parse_closing_think(message["think"])
    label = rng.choice(sorted(stated))
    value = stated[label]
    for _ in range(5):
        other = str(int(value) + rng.randint(1, 9)) if value.isdigit() else (
            _other_id(value, rng) if _ID.match(value) else value + "s")
        if not _token_in(message["content"], other):
            head, mark, tail = message["think"].rpartition(REPORT_MARK)
            message["think"] = head + mark + tail.replace(f"{label} is {value}", f"{label} is {other}", 1)
            return _derive(record, "contradiction", trajectory, correct=True)
    return None


def hallucinated_tool(record: Record, rng: random.Random) -> Record | None:
    """A call to a plausible tool that is not offered (the observation is whatever the agent imagined)."""
    trajectory = copy_state(record["trajectory"])
    sites = _sites(trajectory, lambda c, i: True)
    i, j = rng.choice(sites)
    call = trajectory[i]["tool_calls"][j]
    name = call["name"]
    for old, new in _VERBS:
        if name.startswith(old):
            name = new + name[len(old):]
            break
    call["name"] = name if name not in TOOLS else name + "_v2"
    return _derive(record, "hallucinated_tool", trajectory)


def renamed_argument(record: Record, rng: random.Random) -> Record | None:
    """A required argument passed under another name."""
    trajectory = copy_state(record["trajectory"])
    sites = _sites(trajectory, lambda c, i: bool(TOOLS[c["name"]].schema["parameters"]["required"]))
    i, j = rng.choice(sites)
    call = trajectory[i]["tool_calls"][j]
    key = rng.choice(TOOLS[call["name"]].schema["parameters"]["required"])
    call["arguments"] = {(_ALIASES.get(k, k + "_name") if k == key else k): v for k, v in call["arguments"].items()}
    return _derive(record, "renamed_argument", trajectory)


def extra_argument(record: Record, rng: random.Random) -> Record | None:
    """An argument the tool does not declare."""
    trajectory = copy_state(record["trajectory"])
    i, j = rng.choice(_sites(trajectory, lambda c, i: True))
    key, value = rng.choice((("confirm", True), ("notify_user", True), ("reason", "requested by the user"), ("dry_run", False)))
    trajectory[i]["tool_calls"][j]["arguments"][key] = value
    return _derive(record, "extra_argument", trajectory)


def wrong_type_argument(record: Record, rng: random.Random) -> Record | None:
    """A number passed as text, or a single id wrapped in a list."""
    trajectory = copy_state(record["trajectory"])
    i, j = rng.choice(_sites(trajectory, lambda c, i: bool(c["arguments"])))
    arguments = trajectory[i]["tool_calls"][j]["arguments"]
    numbers = [k for k, v in arguments.items() if isinstance(v, int) and not isinstance(v, bool)]
    key = rng.choice(numbers or sorted(arguments))
    value = arguments[key]
    arguments[key] = str(value) if key in numbers else [value]
    return _derive(record, "wrong_type_argument", trajectory)


def omitted_output(record: Record, rng: random.Random) -> Record | None:
    """A reply leaves out one of the results the user asked for in that turn."""
    outputs = record["ground_truth"]["required_outputs"]
    replies = _replies(record["trajectory"])
    for output in rng.sample(outputs, len(outputs)):
        value, i = str(output["value"]), replies[output["turn"]]
        sentences = re.split(r"(?<=\.) ", record["trajectory"][i]["content"])
        reply = " ".join(s for s in sentences if not _token_in(s, value))
        if not _token_in(reply, value):
            trajectory = copy_state(record["trajectory"])
            trajectory[i]["content"] = reply
            return _derive(record, "omitted_output", trajectory)
    return None


# ------------------------------------------------------------------ helpers of the kinds


def _other_id(value: str, rng: random.Random) -> str:
    prefix, digits = _ID.match(value).group(1), value[len(_ID.match(value).group(1)):]
    return f"{prefix}{int(digits) + rng.randint(1, 9)}"


def _retried_later(trajectory: list[dict[str, Any]], i: int, j: int, name: str) -> bool:
    """Another call of the same tool follows in the same turn (it could pass for a retry)."""
    if any(c["name"] == name for c in trajectory[i]["tool_calls"][j + 1:]):
        return True
    for message in trajectory[i + 1:]:
        if message.get("role") == "user":
            return False
        if any(c["name"] == name for c in message.get("tool_calls") or ()):
            return True
    return False


def _replies(trajectory: list[dict[str, Any]]) -> list[int]:
    """Indices of the assistant messages that close each turn (no tool calls), in turn order."""
    return [i for i, m in enumerate(trajectory) if m.get("role") == "assistant" and not m.get("tool_calls")]


def _result_of(trajectory: list[dict[str, Any]], call_id: str) -> str:
    return next(m["content"] for m in trajectory if m.get("role") == "tool" and m.get("tool_call_id") == call_id)


def _token_in(text: str, value: str) -> bool:
    return re.search(r"(?<![\w-])" + re.escape(value) + r"(?![\w-])", text) is not None


PERTURBATIONS: tuple[Perturbation, ...] = (
    Perturbation("skipped_write", "end_state_mismatch", skipped_write),
    Perturbation("wrong_argument", "end_state_mismatch", wrong_argument),
    Perturbation("invented_observation", "observation_mismatch", invented_observation),
    Perturbation("success_after_error", "success_after_error", success_after_error),
    Perturbation("too_few_calls", "too_easy", too_few_calls),
    Perturbation("loop", "loop", loop),
    Perturbation("contradiction", "contradiction", contradiction),
    Perturbation("hallucinated_tool", "unknown_tool", hallucinated_tool),
    Perturbation("renamed_argument", "missing_argument", renamed_argument),
    Perturbation("extra_argument", "extra_argument", extra_argument),
    Perturbation("wrong_type_argument", "argument_type", wrong_type_argument),
    Perturbation("omitted_output", "missing_output", omitted_output),
)
