"""The independent verifier: re-derives everything from task + ground truth by replaying calls in a fresh
simulator. It imports only the environment (the world the calls act on), never the program sampler,
the templates or the trajectory renderer.

Violations come back ordered by CHECKS, most basic first, so the first one names the primary fault.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from planfusion.tasks.family import Verdict
from planfusion.tasks.tool_execution.env import TOOLS, Simulator, copy_state
from planfusion.tasks.tool_execution.env.changes import apply_changes
from planfusion.tasks.tool_execution.env.schema import validate_arguments

CHECKS: tuple[str, ...] = (
    "format",                # the record cannot be read as turns of calls, results and replies
    "reference_mismatch",    # the ground truth contradicts itself (reference calls fail or miss the end state)
    "unknown_tool",          # a call names a tool that is not offered
    "missing_argument",      # a required argument is absent
    "extra_argument",        # an argument the schema does not declare
    "argument_type",         # wrong type, value outside an enum, below a minimum
    "observation_mismatch",  # a recorded tool result differs from what the replay returns
    "success_after_error",   # a call failed, no successful retry followed in its turn, and the reply does not admit it
    "end_state_mismatch",    # after a turn, the replayed state differs from the reference end state
    "missing_output",        # a required output value is not mentioned in the reply of the turn that asked for it
)
_ORDER = {check: i for i, check in enumerate(CHECKS)}
_ADMITS_FAILURE = re.compile(r"\b(could not|couldn't|cannot|can't|unable to|failed to|did not succeed|was not able to)\b",
                             re.IGNORECASE)
_ENV_FAULTS = (KeyError, TypeError, AttributeError, ValueError, IndexError)  # initial state that does not fit the tools


class _Malformed(Exception):
    """The record's structure is unusable; the message says where."""


@dataclass
class _Call:
    id: str
    name: Any
    arguments: Any
    message: int  # index of the assistant message that issued it (calls of one message are parallel)
    content: Any = None  # the recorded tool result text


@dataclass
class _Turn:
    calls: list[_Call] = field(default_factory=list)
    reply: str | None = None


def verify(record: Any) -> Verdict:
    found: list[tuple[str, str]] = []
    metrics: dict[str, float] = {}
    try:
        task, truth, turns, answer = _parse(record)
        trusted = _check_schema(task, turns, found)
        _check_turns(truth, turns, trusted, found, metrics)
    except _Malformed as exc:
        return Verdict(False, (("format", str(exc)),), {})
    except _ENV_FAULTS as exc:
        found.append(("format", f"initial_state does not fit the tools: {type(exc).__name__}: {exc}"))
    _check_outputs(truth, turns, answer, found, metrics)
    ordered = tuple(sorted(found, key=lambda v: _ORDER[v[0]]))
    return Verdict(not ordered, ordered, metrics)


def _parse(record: Any) -> tuple[dict[str, Any], dict[str, Any], list[_Turn], str]:
    if not isinstance(record, dict):
        raise _Malformed("record is not an object")
    task, truth, trajectory, answer = (record.get(k) for k in ("task", "ground_truth", "trajectory", "answer"))
    if not isinstance(task, dict) or not isinstance(task.get("tools"), list):
        raise _Malformed("task needs a 'tools' list")
    if (not isinstance(truth, dict) or not isinstance(truth.get("initial_state"), dict)
            or not isinstance(truth.get("turns"), list)
            or not isinstance(truth.get("required_outputs"), list)
            or not all(isinstance(t, dict) and isinstance(t.get("calls"), list) and isinstance(t.get("state_changes"), list)
                       for t in truth["turns"])
            or not all(isinstance(o, dict) for o in truth["required_outputs"])):
        raise _Malformed("ground_truth needs an 'initial_state' object, 'turns' (each with 'calls' and 'state_changes') "
                         "and 'required_outputs'")
    if not isinstance(trajectory, list) or not isinstance(answer, str):
        raise _Malformed("trajectory must be a list and answer a string")
    turns = _split_turns(trajectory)
    if answer != turns[-1].reply:
        raise _Malformed("answer differs from the last assistant message")
    if len(turns) != len(truth["turns"]):
        raise _Malformed(f"{len(turns)} user turns in the trajectory, {len(truth['turns'])} in the ground truth")
    return task, truth, turns, answer


def _split_turns(trajectory: list[Any]) -> list[_Turn]:
    """Turns start at user messages; inside one, assistant calls are each answered by one tool message
    before the next assistant message, and an assistant message without calls (the reply) closes it."""
    turns: list[_Turn] = []
    pending: dict[str, _Call] = {}
    seen: set[str] = set()
    for i, message in enumerate(trajectory):
        role = message.get("role") if isinstance(message, dict) else None
        if role not in ("system", "user", "assistant", "tool"):
            raise _Malformed(f"message {i}: not a system, user, assistant or tool message")
        if role != "tool" and pending:
            raise _Malformed(f"message {i}: tool call(s) {sorted(pending)} got no result")
        if role == "system":
            if turns:
                raise _Malformed(f"message {i}: system message inside the conversation")
        elif role == "user":
            if turns and turns[-1].reply is None:
                raise _Malformed(f"message {i}: turn {len(turns)} has no assistant reply")
            turns.append(_Turn())
        elif role == "assistant":
            if not turns or turns[-1].reply is not None:
                raise _Malformed(f"message {i}: assistant message outside a user turn")
            calls = message.get("tool_calls") or []
            if not isinstance(calls, list):
                raise _Malformed(f"message {i}: tool_calls is not a list")
            for call in calls:
                if not isinstance(call, dict) or not isinstance(call.get("id"), str) or call["id"] in seen:
                    raise _Malformed(f"message {i}: a tool call lacks a unique string id")
                seen.add(call["id"])
                pending[call["id"]] = _Call(call["id"], call.get("name"), call.get("arguments"), i)
                turns[-1].calls.append(pending[call["id"]])
            if not calls:
                if not isinstance(message.get("content"), str):
                    raise _Malformed(f"message {i}: assistant reply has no text")
                turns[-1].reply = message["content"]
        else:
            call_id = message.get("tool_call_id")
            call = pending.pop(call_id, None) if isinstance(call_id, str) else None
            if call is None:
                raise _Malformed(f"message {i}: tool result for an unknown or already answered call {call_id!r}")
            call.content = message.get("content")
    if pending or not turns or turns[-1].reply is None:
        raise _Malformed("the trajectory does not end with the assistant's final answer")
    return turns


def _check_turns(truth: dict[str, Any], turns: list[_Turn], trusted: set[str],
                 found: list[tuple[str, str]], metrics: dict[str, float]) -> None:
    """Turn by turn: build the reference end state from the recorded state changes, replay the trajectory's
    calls (each recorded observation must equal the replay, the state must reach the reference end state),
    and check that the reference calls reach it too (the ground truth must agree with itself).

    While the reference calls of every turn so far are exactly the trajectory's successful calls, their
    replay is the trajectory's replay (failed calls change nothing and the simulator is deterministic), so
    it is reused; from the first turn where they differ, the reference program gets a simulator of its own.
    """
    expected = copy_state(truth["initial_state"])
    replay = Simulator(truth["initial_state"])
    reference: Simulator | None = None  # created where the reference program departs from the trajectory
    executed: list[tuple[Any, dict[str, Any]]] = []  # (arguments, result) of every reference call so far
    n_calls = n_errors = n_unrecovered = matched = 0
    for t, (gold, turn) in enumerate(zip(truth["turns"], turns)):
        try:
            apply_changes(expected, gold["state_changes"])
        except ValueError as exc:
            raise _Malformed(f"turn {t + 1}: {exc}") from None
        failing: list[tuple[_Call, str]] = []
        succeeded: list[tuple[_Call, dict[str, Any]]] = []
        for call in turn.calls:
            n_calls += 1
            result = replay.call(call.name, call.arguments, prechecked=call.id in trusted)
            if _load(call.content) != result:
                found.append(("observation_mismatch", f"{call.id} {call.name}: recorded {_short(call.content)}, "
                                                      f"replay gives {_short(json.dumps(result))}"))
            if "error" in result:
                n_errors += 1
                failing.append((call, str(result["error"])))
            else:
                succeeded.append((call, result))
                failing = [(c, e) for c, e in failing if not _retries(call, c)]
        n_unrecovered += len(failing)
        if failing and not _ADMITS_FAILURE.search(turn.reply or ""):
            call, error = failing[0]
            found.append(("success_after_error", f"turn {t + 1}: {call.id} {call.name} failed ({error}) and no successful "
                                                 "retry followed, yet the reply does not say so"))
        if reference is None and _same_calls(gold["calls"], succeeded):
            executed.extend((call.arguments, result) for call, result in succeeded)
            reached = replay.state
        else:
            if reference is None:  # catch up: the earlier turns' reference calls, on a simulator of their own
                reference, executed = Simulator(truth["initial_state"]), []
                for earlier in truth["turns"][:t]:
                    _run_reference(reference, earlier["calls"], executed, found)
            _run_reference(reference, gold["calls"], executed, found)
            reached = reference.state
        if reached != expected:
            found.append(("reference_mismatch", f"turn {t + 1}: the reference calls do not reach the recorded end state "
                                                f"({_first_difference(expected, reached)})"))
        if replay.state == expected:
            matched += 1
        else:
            found.append(("end_state_mismatch", f"turn {t + 1}: {_first_difference(expected, replay.state)}"))
    for output in truth["required_outputs"]:
        try:
            value = _resolve(output.get("source"), executed)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError, StopIteration):
            value = _Malformed
        if value != output.get("value"):
            found.append(("reference_mismatch", f"required output {output.get('name')!r} is not what its source holds"))
    metrics.update({"calls": float(n_calls), "errors": float(n_errors), "errors_recovered": float(n_errors - n_unrecovered),
                    "turn_states_matched": matched / len(turns)})


def _same_calls(gold: list[Any], succeeded: list[tuple[_Call, dict[str, Any]]]) -> bool:
    """The reference calls are exactly these successful calls (same tools, identical JSON arguments)."""
    return len(gold) == len(succeeded) and all(
        isinstance(g, dict) and g.get("name") == call.name and _identical(g.get("arguments"), call.arguments)
        for g, (call, _) in zip(gold, succeeded))


def _identical(a: Any, b: Any) -> bool:
    """JSON equality: unlike ==, True is not 1 and 1 is not 1.0."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_identical(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        return len(a) == len(b) and all(_identical(x, y) for x, y in zip(a, b))
    return a == b


def _run_reference(sim: Simulator, calls: list[Any], executed: list[tuple[Any, dict[str, Any]]],
                   found: list[tuple[str, str]]) -> None:
    for call in calls:
        call = call if isinstance(call, dict) else {}
        result = sim.call(call.get("name"), call.get("arguments"))
        if "error" in result:
            found.append(("reference_mismatch", f"reference call #{len(executed)} {call.get('name')} fails: {result['error']}"))
        executed.append((call.get("arguments"), result))


def _resolve(source: Any, executed: list[tuple[Any, dict[str, Any]]]) -> Any:
    arguments, result = executed[source["call"]]
    value = arguments if source["in"] == "arguments" else result
    for key in source["path"]:
        value = value[key]
    extract = source.get("extract")
    if extract == "len":
        return len(value)
    if isinstance(extract, str) and extract.startswith("field:"):
        key = extract[len("field:"):]
        return next(line[len(key) + 2:] for line in value.splitlines() if line.startswith(key + ": "))
    if extract is not None:
        raise ValueError(f"unknown extract {extract!r}")
    return value


def _check_schema(task: dict[str, Any], turns: list[_Turn], found: list[tuple[str, str]]) -> set[str]:
    """Every call against the offered tool schemas; returns the ids of calls that passed against a schema
    identical to the environment's own (the replay need not check those again)."""
    offered = {t.get("name"): t for t in task["tools"] if isinstance(t, dict) and isinstance(t.get("name"), str)}
    native = {name for name, tool in offered.items() if name in TOOLS and TOOLS[name].schema == tool}
    trusted: set[str] = set()
    for call in (c for turn in turns for c in turn.calls):
        tool = offered.get(call.name) if isinstance(call.name, str) else None
        if tool is None:
            found.append(("unknown_tool", f"{call.id}: {call.name!r} is not an offered tool"))
            continue
        problems = validate_arguments(tool.get("parameters"), call.arguments)
        found.extend((check, f"{call.id} {call.name}: {detail}") for check, detail in problems)
        if not problems and call.name in native:
            trusted.add(call.id)
    return trusted


def _retries(call: _Call, failed: _Call) -> bool:
    """``call`` is a retry of ``failed``: issued after seeing its error, same tool, at most one argument changed."""
    if call.message <= failed.message or call.name != failed.name:
        return False
    if not isinstance(call.arguments, dict) or not isinstance(failed.arguments, dict):
        return False
    keys = set(call.arguments) | set(failed.arguments)
    return sum(call.arguments.get(k, _Malformed) != failed.arguments.get(k, _Malformed) for k in keys) <= 1


def _check_outputs(truth: dict[str, Any], turns: list[_Turn], answer: str, found: list[tuple[str, str]],
                   metrics: dict[str, float]) -> None:
    """Each required value must be said in the reply of its turn (the final answer when no valid turn is given)."""
    outputs = truth["required_outputs"]
    present = 0
    for output in outputs:
        text, turn = str(output.get("value")), output.get("turn")
        valid = isinstance(turn, int) and not isinstance(turn, bool) and 0 <= turn < len(turns)
        if mentions((turns[turn].reply if valid else answer) or "", text):
            present += 1
        else:
            where = f"the reply of turn {turn + 1}" if valid else "the answer"
            found.append(("missing_output", f"{output.get('name')}={text} is not mentioned in {where}"))
    metrics["outputs_found"] = present / len(outputs) if outputs else 1.0


def mentions(text: str, value: str) -> bool:
    """``value`` occurs in ``text`` as a whole token (not inside a longer id, word or number); plain
    find, not a regex per value, because the contradiction filter runs this on every value of every record."""
    start = text.find(value)
    while start >= 0 and value:
        end = start + len(value)
        if not _glued(text[start - 1:start]) and not _glued(text[end:end + 1]):
            return True
        start = text.find(value, start + 1)
    return False


def _glued(char: str) -> bool:
    return char != "" and (char.isalnum() or char in "_-")


def _load(content: Any) -> Any:
    if not isinstance(content, str):
        return _Malformed
    try:
        return json.loads(content)
    except ValueError:
        return _Malformed


def _first_difference(expected: Any, actual: Any, path: str = "state") -> str:
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in sorted(set(expected) | set(actual), key=str):
            if expected.get(key, _Malformed) != actual.get(key, _Malformed):
                return _first_difference(expected.get(key, "<absent>"), actual.get(key, "<absent>"), f"{path}.{key}")
    return f"{path} should be {_short(json.dumps(expected, default=str))}, is {_short(json.dumps(actual, default=str))}"


def _short(text: Any, limit: int = 120) -> str:
    text = text if isinstance(text, str) else repr(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."
