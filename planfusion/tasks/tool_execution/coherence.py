"""Self-cancelling programs: requests that undo what the agent itself did earlier in the conversation.

A training example where one turn moves a file and a later one moves it back, or routes a ticket and
then hands it over, teaches busy work. ``self_cancelling`` replays a record's reference program and
watches every state leaf (a file, a ticket's assignee, a product's stock) for:

- revert: a call puts a leaf back to the value it had before an earlier call on the same object
  changed it (calls are on the same object when one names an id or path the other named or returned:
  a payment and its reversal, an order and its cancellation; two customers' orders that happen to
  net a product's stock to zero are not);
- overruled: a choice one call made (an assignee, a priority, a price) is replaced by a later call.
  Reads in between do not excuse it: the undoing request itself reads the object first (the
  hand-over searches the tickets it then moves), so the first call was wasted work either way;
- retired: an object the program created is later cancelled, closed, resolved or deleted;
- unchanged: an object changed by calls on the same object ends the program exactly as it started.

It reads only the ground truth (initial state and reference calls) and the environment.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from planfusion.tasks.tool_execution.env import TOOLS, Simulator, copy_state

Leaf = tuple[str, ...]  # (backend, collection, key, field...): a path of dict keys to a non-dict value
Change = tuple[int, Any, Any]  # (call index, value before, value after)
DECISIONS = frozenset({"assignee", "priority", "price"})
RETIRED = frozenset({"cancelled", "closed", "resolved"})
_ABSENT = object()
_ID = re.compile(r"[A-Z]+-\d+$")


def reference_calls(record: dict[str, Any]) -> list[dict[str, Any]]:
    return [call for turn in record["ground_truth"]["turns"] for call in turn["calls"]]


def self_cancelling(record: dict[str, Any]) -> list[str]:
    """One line per undone effect in the reference program (empty for a coherent program)."""
    start = record["ground_truth"]["initial_state"]
    sim = Simulator(start)
    history: dict[Leaf, list[Change]] = {}
    named: dict[int, set[str]] = {}  # write call index -> ids and paths in its arguments and result
    linked: set[Leaf] = set()  # objects changed by two calls on the same object
    findings: list[str] = []
    for index, call in enumerate(reference_calls(record)):
        tool = TOOLS.get(call["name"])
        if tool is None or not tool.writes:
            continue  # reads change nothing
        before = copy_state(sim.state[tool.backend])
        result = sim.call(call["name"], call["arguments"])
        mine = set(_names(call["arguments"]))
        named[index] = mine | set(_names(result))
        for leaf, old, new in _changed(before, sim.state[tool.backend], (tool.backend,)):
            related = [c for c in history.get(leaf, []) if mine & named[c[0]]]
            findings.extend(_undoes(leaf, related, index, call["name"], new, _at(start, leaf[:3]) is not _ABSENT))
            history.setdefault(leaf, []).append((index, old, new))
            if related:
                linked.add(leaf[:3])
    findings.extend(f"unchanged: {'.'.join(entity)} was changed but ends as it started" for entity in sorted(linked)
                    if _at(start, entity) is not _ABSENT and _at(start, entity) == _at(sim.state, entity))
    return findings


def _undoes(leaf: Leaf, earlier: list[Change], index: int, name: str, new: Any, existed: bool) -> Iterator[str]:
    """What call ``index`` setting ``leaf`` to ``new`` undoes, given the leaf's earlier changes by calls
    on the same object."""
    where = ".".join(leaf)
    back = next((i for i, old, _ in earlier if _same(new, old)), None)
    if back is not None:
        yield f"revert: call #{index} {name} puts {where} back to {_show(new)}, its value before call #{back}"
    elif leaf[-1] in DECISIONS and earlier and earlier[-1][2] not in (None, _ABSENT):
        yield f"overruled: call #{index} {name} replaces {_show(earlier[-1][2])} set by call #{earlier[-1][0]} in {where}"
    if not existed and (new is _ABSENT or leaf[-1] == "status" and new in RETIRED):
        yield f"retired: call #{index} {name} makes {where} {_show(new)} though the program created it"


def _names(value: Any) -> Iterator[str]:
    """Ids ("T-1042", "AC-3301") and paths among the strings of a call's arguments or result."""
    if isinstance(value, str):
        if value.startswith("/") or _ID.match(value):
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _names(item)
    elif isinstance(value, list):
        for item in value:
            yield from _names(item)


def _at(state: Any, path: Leaf) -> Any:
    for key in path:
        if not isinstance(state, dict) or key not in state:
            return _ABSENT
        state = state[key]
    return state


def _same(a: Any, b: Any) -> bool:
    return a is b or (a is not _ABSENT and b is not _ABSENT and a == b)


def _show(value: Any) -> str:
    return "absent" if value is _ABSENT else repr(value)


def _changed(before: Any, after: Any, path: Leaf) -> Iterator[tuple[Leaf, Any, Any]]:
    """(leaf, old, new) for every leaf that differs; dicts are descended into (skipping equal subtrees, and
    a created or deleted object counts field by field), anything else (text, number, list) is one leaf."""
    if before is after or before == after:
        return
    if not all(isinstance(side, dict) or side is _ABSENT for side in (before, after)):
        yield path, before, after
        return
    old, new = before if isinstance(before, dict) else {}, after if isinstance(after, dict) else {}
    for key in old.keys() | new.keys():
        yield from _changed(old.get(key, _ABSENT), new.get(key, _ABSENT), (*path, str(key)))
