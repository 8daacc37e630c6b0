"""Generator parameters: defaults, and validation that names the bad key and why."""

from __future__ import annotations

from typing import Any

from planfusion.tasks.decomposition.domains import DOMAINS
from planfusion.tasks.decomposition.library import Domain

SUBTYPES: tuple[str, ...] = ("linear", "parallel", "hierarchical")
MIN_NODES, MAX_NODES = 3, 25
MAX_ITEMS = 5
MAX_LEVELS = 3
MAX_DISTRACTORS = 12

DEFAULT_PARAMS: dict[str, Any] = {
    "subtypes": list(SUBTYPES),          # sampled uniformly per record
    "domains": list(DOMAINS),            # sampled uniformly per record
    "min_nodes": MIN_NODES,              # gold workflow size range
    "max_nodes": MAX_NODES,
    "max_depth": MAX_NODES,              # most steps on one dependency path (a linear task's length)
    "max_items": 4,                      # parallel per-item branches (width); hierarchical uses >= 2
    "max_levels": MAX_LEVELS,            # sub-goal levels of hierarchical tasks (2..max_levels)
    "min_distractors": 1,                # unneeded actions mixed into the offered list
    "max_distractors": 6,
    "min_implicit_ratio": 0.3,           # share of gold edges stated only through artifacts, drawn per record
    "max_implicit_ratio": 1.0,           # in this range (the count of stated edges rounds down)
    "optional_input_rate": 0.5,          # chance an action also consumes an optional input (joins)
}


def resolve_params(params: dict[str, Any] | None) -> dict[str, Any]:
    """Defaults overlaid with ``params``, checked; the result is what lineage records."""
    if params is not None and not isinstance(params, dict):
        raise ValueError(f"decomposition params must be a dict, got {type(params).__name__}")
    given = params or {}
    unknown = sorted(set(given) - set(DEFAULT_PARAMS))
    if unknown:
        raise ValueError(f"unknown decomposition params {unknown}; expected some of {sorted(DEFAULT_PARAMS)}")
    merged = {**DEFAULT_PARAMS, **given}
    _check_choice(merged, "subtypes", SUBTYPES)
    _check_choice(merged, "domains", tuple(DOMAINS))
    _check_int(merged, "min_nodes", MIN_NODES, MAX_NODES)
    _check_int(merged, "max_nodes", merged["min_nodes"], MAX_NODES)
    _check_int(merged, "max_depth", 2, MAX_NODES)
    _check_int(merged, "max_items", 1, MAX_ITEMS)
    _check_int(merged, "max_levels", 1, MAX_LEVELS)
    _check_int(merged, "min_distractors", 0, MAX_DISTRACTORS)
    _check_int(merged, "max_distractors", merged["min_distractors"], MAX_DISTRACTORS)
    _check_ratio(merged, "min_implicit_ratio", 0.0)
    _check_ratio(merged, "max_implicit_ratio", merged["min_implicit_ratio"])
    _check_ratio(merged, "optional_input_rate", 0.0)
    if "hierarchical" in merged["subtypes"] and (merged["max_items"] < 2 or merged["max_levels"] < 2):
        raise ValueError("decomposition param subtypes: 'hierarchical' needs max_items >= 2 and max_levels >= 2, "
                         f"got max_items={merged['max_items']}, max_levels={merged['max_levels']}")
    longest = min(merged["max_nodes"], merged["max_depth"])
    if "linear" in merged["subtypes"] and not any(
        linear_options(DOMAINS[d], merged["min_nodes"], longest) for d in merged["domains"]
    ):
        raise ValueError(f"decomposition params: no linear chain of {merged['min_nodes']}-{longest} "
                         f"nodes exists in domains {merged['domains']}")
    return merged


def linear_options(domain: Domain, low: int, high: int) -> list[tuple[str, int]]:
    """(goal artifact, chain length) pairs a linear task can be built from, in library order."""
    return [(goal, n) for goal in domain.goals for n in sorted(domain.chain_lengths[goal]) if low <= n <= high]


def _check_choice(params: dict[str, Any], key: str, allowed: tuple[str, ...]) -> None:
    value = params[key]
    if (not isinstance(value, list) or not value or any(v not in allowed for v in value)
            or len(set(value)) != len(value)):
        raise ValueError(f"decomposition param {key}={value!r}: expected a non-empty list of distinct values "
                         f"from {list(allowed)}")


def _check_int(params: dict[str, Any], key: str, low: int, high: int) -> None:
    value = params[key]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"decomposition param {key}={value!r}: expected an integer in [{low}, {high}]")


def _check_ratio(params: dict[str, Any], key: str, low: float) -> None:
    value = params[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= 1.0:
        raise ValueError(f"decomposition param {key}={value!r}: expected a number in [{low}, 1]")
