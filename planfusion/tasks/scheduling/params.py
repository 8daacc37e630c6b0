"""Generator parameters: defaults, and validation with errors that name the parameter and why."""

from __future__ import annotations

from typing import Any

from planfusion.tasks.scheduling import calendar_meeting, job_shop, meeting_route, trip_itinerary

SUBTYPES: tuple[str, ...] = (calendar_meeting.SUBTYPE, meeting_route.SUBTYPE, trip_itinerary.SUBTYPE, job_shop.SUBTYPE)
DEFAULT_PARAMS: dict[str, Any] = {
    "subtypes": list(SUBTYPES),    # one name or a list; rotated with the index (balanced mix)
    "levels": [1, 5],              # [low, high]: each record's level is drawn in this range
    "above_bound_share": 0.75,     # job_shop: share of records drawn to need an optimum above the lower
                                   # bound the reasoning states; the rest are left alone (about a fifth of
                                   # those land above it anyway); 0 turns it off
}


def resolve_params(params: dict[str, Any] | None) -> dict[str, Any]:
    """Defaults filled in and checked; "subtypes" may be one name or a list of names."""
    if params is not None and not isinstance(params, dict):
        raise ValueError(f"scheduling params must be a dict, got {type(params).__name__}")
    merged = {**DEFAULT_PARAMS, **(params or {})}
    unknown = sorted(set(merged) - set(DEFAULT_PARAMS))
    if unknown:
        raise ValueError(f"scheduling params: unknown key(s) {unknown}; expected {sorted(DEFAULT_PARAMS)}")
    subtypes = merged["subtypes"]
    if isinstance(subtypes, str):
        subtypes = [subtypes]
    if not isinstance(subtypes, list) or not subtypes or any(s not in SUBTYPES for s in subtypes):
        raise ValueError(f"scheduling params: 'subtypes' must be a non-empty list drawn from {list(SUBTYPES)}, "
                         f"got {merged['subtypes']!r}")
    if len(set(subtypes)) != len(subtypes):
        raise ValueError(f"scheduling params: 'subtypes' has duplicates: {subtypes!r}")
    levels = merged["levels"]
    if (not isinstance(levels, list) or len(levels) != 2 or not all(type(v) is int for v in levels)
            or not 1 <= levels[0] <= levels[1] <= 5):
        raise ValueError(f"scheduling params: 'levels' must be [low, high] with 1 <= low <= high <= 5, got {levels!r}")
    share = merged["above_bound_share"]
    if type(share) not in (int, float) or not 0 <= share <= 1:
        raise ValueError(f"scheduling params: 'above_bound_share' must be a number in [0, 1], got {share!r}")
    return {"subtypes": list(subtypes), "levels": list(levels), "above_bound_share": float(share)}
