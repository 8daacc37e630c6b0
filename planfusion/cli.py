"""The ``planfusion`` command: one sub-command per module that registers itself."""

from __future__ import annotations

import argparse
import importlib
import sys

# module path -> it exposes register(subparsers) which adds its sub-commands with set_defaults(run=...)
COMMAND_MODULES = (
    "planfusion.novelsum.explain",
    "planfusion.tasks.commands",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="planfusion", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
