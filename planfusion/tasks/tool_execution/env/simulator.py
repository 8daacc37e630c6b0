"""The deterministic environment: dispatches tool calls to backend handlers over one plain-dict state.

State is {backend name: backend state} for the backends a task uses. There is no clock and no
randomness: new ids come from per-backend counters stored in the state itself, so replaying the
same calls from the same initial state always yields the same observations and end state.
"""

from __future__ import annotations

from typing import Any

from planfusion.tasks.tool_execution.env import bank, files, orders, tickets
from planfusion.tasks.tool_execution.env.base import State, Tool, ToolError, copy_state
from planfusion.tasks.tool_execution.env.schema import validate_arguments

BACKENDS: tuple[str, ...] = (files.BACKEND, tickets.BACKEND, orders.BACKEND, bank.BACKEND)
TOOLS: dict[str, Tool] = {t.name: t for module in (files, tickets, orders, bank) for t in module.TOOLS}


def tool_schemas(backends: list[str] | tuple[str, ...]) -> list[dict[str, Any]]:
    """The function schemas offered for these backends, in a fixed order; copies, so a record that holds
    them (and whoever edits that record) never shares them with TOOLS or with other records."""
    return [copy_state(t.schema) for t in TOOLS.values() if t.backend in backends]


class Simulator:
    def __init__(self, initial_state: State) -> None:
        self.state: State = copy_state(initial_state)

    def call(self, name: Any, arguments: Any, *, prechecked: bool = False) -> dict[str, Any]:
        """The observation for one call; every refusal is an {"error": ...} result, never an exception.

        ``prechecked`` skips the argument check for callers that already validated the arguments
        against this tool's schema (it must not be used for arguments of unknown shape)."""
        tool = TOOLS.get(name) if isinstance(name, str) else None
        if tool is None:
            return {"error": f"unknown tool {name!r}"}
        if tool.backend not in self.state:
            return {"error": f"tool {name} is not available in this environment"}
        if not prechecked:
            problems = validate_arguments(tool.schema["parameters"], arguments)
            if problems:
                return {"error": problems[0][1]}
        try:
            return tool.handler(self.state[tool.backend], **arguments)
        except ToolError as exc:
            return {"error": str(exc)}

    def fork(self, backend: str) -> Simulator:
        """An independent copy of one backend, to try a call of that backend without touching this state."""
        return Simulator({backend: self.state[backend]})
