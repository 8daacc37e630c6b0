"""Generator parameters: defaults, and validation with errors that name the parameter and the allowed range."""

from __future__ import annotations

from typing import Any

SUBTYPES: tuple[str, ...] = ("files", "tickets", "orders", "bank", "cross_backend")
DEFAULT_PARAMS: dict[str, Any] = {
    "subtypes": list(SUBTYPES),  # records cycle through these by index
    "min_calls": 5,  # reference program length range (tool calls, all turns together)
    "max_calls": 30,
    "min_turns": 2,  # user turns the program is spread over
    "max_turns": 4,
    "error_rate": 0.3,  # share of records with injected recoverable errors
    "max_errors": 2,  # injected errors per such record (1..max_errors)
}
_INT_RANGES = {"min_calls": (1, 60), "max_calls": (1, 60), "min_turns": (1, 8), "max_turns": (1, 8), "max_errors": (0, 5)}


def resolve_params(params: dict[str, Any] | None) -> dict[str, Any]:
    """Defaults overlaid with ``params``, checked; a ValueError says which parameter is wrong and why."""
    if params is not None and not isinstance(params, dict):
        raise ValueError(f"tool_execution params must be a dict, got {type(params).__name__}")
    unknown = sorted(set(params or {}) - set(DEFAULT_PARAMS))
    if unknown:
        raise ValueError(f"tool_execution: unknown param(s) {unknown}; known: {sorted(DEFAULT_PARAMS)}")
    full = {**DEFAULT_PARAMS, **(params or {})}
    for key, (low, high) in _INT_RANGES.items():
        value = full[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"tool_execution param {key!r}: expected an integer in {low}..{high}, got {value!r}")
    for low, high in (("min_calls", "max_calls"), ("min_turns", "max_turns"), ("min_turns", "min_calls")):
        if full[low] > full[high]:
            raise ValueError(f"tool_execution params: {low} ({full[low]}) must not exceed {high} ({full[high]})")
    rate = full["error_rate"]
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
        raise ValueError(f"tool_execution param 'error_rate': expected a number in [0, 1], got {rate!r}")
    subtypes = full["subtypes"]
    if isinstance(subtypes, str):
        subtypes = [subtypes]
    if (not isinstance(subtypes, (list, tuple)) or not subtypes or not all(s in SUBTYPES for s in subtypes)
            or len(dict.fromkeys(subtypes)) != len(subtypes)):
        raise ValueError(f"tool_execution param 'subtypes': expected distinct names from {list(SUBTYPES)}, got {subtypes!r}")
    full["subtypes"] = list(subtypes)
    return full
