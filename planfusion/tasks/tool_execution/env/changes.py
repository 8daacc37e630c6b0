"""State changes: how a record stores the end state of each turn compactly, as edits of the previous one.

A change is {"op": "set", "path": [...], "value": v}, {"op": "append", "path": [...], "values": [...]}
(extend a list) or {"op": "remove", "path": [...]}; paths are keys from the state root. The end state of
turn t is the initial state with the changes of turns 0..t applied in order.
"""

from __future__ import annotations

from typing import Any

from planfusion.tasks.tool_execution.env.base import State, copy_state


def apply_changes(state: State, changes: Any) -> None:
    """Apply one turn's changes in place; a ValueError says which change does not fit the state."""
    if not isinstance(changes, list):
        raise ValueError("state_changes must be a list")
    for change in changes:
        try:
            *parents, last = change["path"]
            target = state
            for key in parents:
                target = target[key]
            if change["op"] == "set":
                value = change["value"]
                target[last] = copy_state(value) if isinstance(value, (dict, list)) else value
            elif change["op"] == "append":
                target[last].extend(copy_state(change["values"]))
            elif change["op"] == "remove":
                del target[last]
            else:
                raise ValueError(f"unknown op {change['op']!r}")
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"state change {str(change)[:80]} does not apply: {exc}") from None


def end_states(initial_state: State, turns: list[dict[str, Any]]) -> list[State]:
    """The end state of every turn of a record's ground truth (``ground_truth["turns"]``)."""
    state = copy_state(initial_state)
    states = []
    for turn in turns:
        apply_changes(state, turn["state_changes"])
        states.append(copy_state(state))
    return states
