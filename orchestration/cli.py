"""The ``planfusion`` console script: the library's commands plus ``up``, which needs Dagster and so
lives here (the library never imports Dagster)."""

import argparse
import os
import sys

from orchestration.instance import PG_URL_VARIABLE, STORAGE_VARIABLE, STORAGES
from planfusion import cli

NO_SERVE_VARIABLE = "PLANFUSION_NO_SERVE"


def register_up(subparsers) -> None:
    cmd = subparsers.add_parser("up", help="materialize the whole pipeline on defaults, then serve the Dagster UI")
    cmd.add_argument("--home", default=os.environ.get("DAGSTER_HOME", "dagster_home"),
                     help="persistent Dagster instance folder (default: $DAGSTER_HOME or %(default)s)")
    cmd.add_argument("--no-serve", action="store_true", default=os.environ.get(NO_SERVE_VARIABLE, "") not in ("", "0"),
                     help=f"stop after materializing (also: {NO_SERVE_VARIABLE}=1)")
    cmd.add_argument("--port", type=int, default=3000)
    cmd.add_argument("--storage", choices=STORAGES, default=os.environ.get(STORAGE_VARIABLE, "sqlite"),
                     help=f"instance storage: SQLite files in the home, or PostgreSQL at ${PG_URL_VARIABLE} (needs the "
                          f"postgres extra) (default: ${STORAGE_VARIABLE} or %(default)s)")
    cmd.set_defaults(run=_up)


def _up(args: argparse.Namespace) -> int:
    from orchestration.up import run  # Dagster loads only for this command

    return run(args)


def main(argv: list[str] | None = None) -> int:
    return cli.main(argv, extra=[register_up])


if __name__ == "__main__":
    sys.exit(main())
