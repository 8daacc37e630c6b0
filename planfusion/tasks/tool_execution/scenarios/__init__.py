"""Generator side: worlds (initial states) and goal templates that write reference programs against a Session.
The verifier never imports this package."""

from __future__ import annotations

from planfusion.tasks.tool_execution.scenarios import bank, cross, files, orders, tickets
from planfusion.tasks.tool_execution.scenarios.session import Template

SINGLE = {"files": files, "tickets": tickets, "orders": orders, "bank": bank}


def templates_for(backends: list[str]) -> tuple[list[Template], list[Template], list[Template]]:
    """(cross-backend templates, all goal templates, one-call fillers) usable with these backends, in a fixed order."""
    linking = [t for t, wanted in cross.TEMPLATES if all(b in backends for b in wanted)]
    main = [t for b in backends for t in SINGLE[b].TEMPLATES] + linking
    return linking, main, [t for b in backends for t in SINGLE[b].FILLERS]
