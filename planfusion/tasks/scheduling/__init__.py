"""scheduling: multi-constraint scheduling tasks in the NATURAL PLAN style plus resource scheduling.

Four subtypes (calendar_meeting, meeting_route, trip_itinerary, job_shop). Each builder plants a
solution, adds constraints around it and has an exact solver confirm it is the earliest / optimal /
unique one; the instruction round-trips to the constraints through ``instruction_parser``; the
verifier replays the parsed answer against the constraints without touching generator code. The
modules every family has are listed in ``planfusion.tasks.family.TEMPLATE``.
"""

from __future__ import annotations

from planfusion.tasks.family import family_from_package

FAMILY = family_from_package(__name__)

__all__ = ["FAMILY"]
