"""The tool environment (simulator, backends, schemas): shared by the generator and the verifier alike,
because it is the world the calls act on, not a way of producing answers."""

from planfusion.tasks.tool_execution.env.base import Tool, ToolError, copy_state
from planfusion.tasks.tool_execution.env.changes import apply_changes, end_states
from planfusion.tasks.tool_execution.env.simulator import BACKENDS, TOOLS, Simulator, tool_schemas

__all__ = ["BACKENDS", "TOOLS", "Simulator", "Tool", "ToolError", "apply_changes", "copy_state", "end_states",
           "tool_schemas"]
