"""The JSON-schema subset that tool parameters use, and the argument check a function-calling API applies.

Both the simulator (to refuse malformed calls with an error instead of crashing) and the verifier
(to report every schema violation of a recorded call against the tools offered in the task) use it.
"""

from __future__ import annotations

from typing import Any

Problem = tuple[str, str]  # (check, detail): "missing_argument" | "extra_argument" | "argument_type"

_TYPES = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def string(description: str, enum: tuple[str, ...] = ()) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": "string", "description": description}
    if enum:
        spec["enum"] = list(enum)
    return spec


def integer(description: str, minimum: int | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": "integer", "description": description}
    if minimum is not None:
        spec["minimum"] = minimum
    return spec


def boolean(description: str) -> dict[str, Any]:
    return {"type": "boolean", "description": description}


def array(items: dict[str, Any], description: str) -> dict[str, Any]:
    return {"type": "array", "description": description, "items": items}


def obj(properties: dict[str, dict[str, Any]], required: tuple[str, ...] = ()) -> dict[str, Any]:
    """An object schema that rejects unknown keys, like strict function calling."""
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


def validate_arguments(parameters: Any, arguments: Any, where: str = "") -> list[Problem]:
    """Every way ``arguments`` breaks the object schema ``parameters``; empty when the call is well-formed."""
    if not isinstance(arguments, dict):
        return [("argument_type", f"{where or 'arguments'}: expected an object, got {_kind(arguments)}")]
    if not isinstance(parameters, dict):
        return [("argument_type", f"{where or 'arguments'}: the tool declares no parameter schema")]
    properties = parameters.get("properties") or {}
    problems: list[Problem] = [("missing_argument", f"missing required argument {where}{key!r}")
                               for key in parameters.get("required") or () if key not in arguments]
    for key, value in arguments.items():
        spec = properties.get(key)
        if spec is None:
            problems.append(("extra_argument", f"unexpected argument {where}{key!r}"))
        elif not (type(value) is str and spec.get("type") == "string" and "enum" not in spec):  # the common case
            problems.extend(_check_value(spec, value, f"{where}{key}"))
    return problems


def _check_value(spec: Any, value: Any, path: str) -> list[Problem]:
    kind = spec.get("type") if isinstance(spec, dict) else None
    test = _TYPES.get(kind)
    if test is None or not test(value):
        return [("argument_type", f"argument {path!r}: expected {kind}, got {_kind(value)}")]
    if "enum" in spec and value not in spec["enum"]:
        return [("argument_type", f"argument {path!r}: {value!r} is not one of {spec['enum']}")]
    if "minimum" in spec and value < spec["minimum"]:
        return [("argument_type", f"argument {path!r}: {value} is below the minimum {spec['minimum']}")]
    if kind == "array":
        return [p for i, item in enumerate(value) for p in _check_value(spec.get("items") or {}, item, f"{path}[{i}]")]
    if kind == "object":
        return validate_arguments(spec, value, f"{path}.")
    return []


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, float):
        return "number"
    return next((name for name, test in _TYPES.items() if test(value)), type(value).__name__)
