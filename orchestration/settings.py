"""Where the pipeline keeps its files and its settings; environment variables override the defaults
(tests and the `planfusion up` command point them at their own folders)."""

from __future__ import annotations

import os

from planfusion.settings import settings_path
from planfusion.warehouse import DEFAULT_DATABASE


def database() -> str:
    return os.environ.get("PLANFUSION_DB", DEFAULT_DATABASE)


def inbox() -> str:
    return os.environ.get("PLANFUSION_INBOX", "inbox")


def exports() -> str:
    return os.environ.get("PLANFUSION_EXPORTS", "warehouse/exports")


def config_file() -> str:
    """planfusion.yaml: $PLANFUSION_CONFIG, else the working directory's."""
    return str(settings_path())
