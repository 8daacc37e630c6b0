"""The ``planfusion`` command: one sub-command per module that registers itself."""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Any, Callable, Sequence

# module path -> it exposes register(subparsers) which adds its sub-commands with set_defaults(run=...)
COMMAND_MODULES = (
    "planfusion.novelsum.explain",
    "planfusion.tasks.commands",
    "planfusion.lineage",
    "planfusion.report.command",
    "planfusion.settings",
)


def build_parser(extra: Sequence[Callable[[Any], None]] = ()) -> argparse.ArgumentParser:
    """extra: more register(subparsers) functions, for commands that live outside the library."""
    parser = argparse.ArgumentParser(prog="planfusion", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(subparsers)
    for register in extra:
        register(subparsers)
    return parser


def main(argv: list[str] | None = None, extra: Sequence[Callable[[Any], None]] = ()) -> int:
    args = build_parser(extra).parse_args(argv)
    return int(args.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
