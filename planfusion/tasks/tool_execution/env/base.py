"""What every backend is made of: tools (a JSON schema plus a pure handler over plain-dict state) and errors."""

from __future__ import annotations

import marshal
from dataclasses import dataclass
from typing import Any, Callable

from planfusion.tasks.tool_execution.env.schema import obj

State = dict[str, Any]


class ToolError(Exception):
    """A refusal by the backend (unknown id, insufficient funds...): the caller sees {"error": message}.

    Handlers raise it before mutating anything, so a failed call never changes state.
    """


@dataclass(frozen=True)
class Tool:
    name: str
    backend: str
    writes: bool  # may change state; read-only tools never do
    schema: dict[str, Any]  # {"name", "description", "parameters"}: what a solver is offered
    handler: Callable[..., dict[str, Any]]  # handler(backend_state, **arguments) -> JSON-able result


def tool(backend: str, handler: Callable[..., dict[str, Any]], description: str,
         properties: dict[str, dict[str, Any]], required: tuple[str, ...] = (), *, writes: bool) -> Tool:
    """A tool named after its handler, with a strict object schema for its arguments."""
    schema = {"name": handler.__name__, "description": description, "parameters": obj(properties, required)}
    return Tool(handler.__name__, backend, writes, schema, handler)


def copy_state(state: Any) -> Any:
    """A deep copy of JSON-like data (marshal is exact for dict/list/str/int/bool/None and fast)."""
    return marshal.loads(marshal.dumps(state))


def require(condition: bool, message: str) -> None:
    if not condition:
        raise ToolError(message)
