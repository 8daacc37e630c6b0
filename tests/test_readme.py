"""The README's promises stay true: its two commands come first, CI runs its test command verbatim, and
its table reference matches the warehouse schema."""

import re
from pathlib import Path

from planfusion.warehouse import tables_markdown

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_readme_opens_with_the_run_and_the_test_command() -> None:
    run, test = re.findall(r"```sh\n(.+?)\n```", README, flags=re.S)[:2]
    assert run.endswith("planfusion up") and "pip install" in run
    assert "pytest --run-slow" in test and "pip install -e '.[test]'" in test
    assert test in (ROOT / ".ci" / "run").read_text().splitlines()


def test_readme_documents_every_table_and_column() -> None:
    assert tables_markdown() in README
