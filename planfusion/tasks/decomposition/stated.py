"""How much of the gold workflow the instruction gives away word for word (verifier side).

``implicit_ratio`` promises that a share of the gold edges reaches the solver only through artifacts
(an action uses what another produces). An edge counts as stated when one line of the instruction
names both of its actions' exact texts, however it is phrased, so the measure does not trust the
generator's own list of ordering notes.
"""

from __future__ import annotations

from planfusion.tasks.family import Record


def stated_edges(record: Record) -> set[tuple[int, int]]:
    """Gold edges (1-based node numbers) whose two action texts appear together on one instruction line."""
    lines = record["task"]["instruction"].splitlines()
    on_lines = [{k for k, line in enumerate(lines) if _names(line, text)} for text in record["ground_truth"]["nodes"]]
    return {(a, b) for a, b in record["ground_truth"]["edges"] if on_lines[a - 1] & on_lines[b - 1]}


def stated_edge_share(record: Record) -> float | None:
    """Share of the gold edges stated outright; None for a workflow without edges."""
    edges = record["ground_truth"]["edges"]
    return len(stated_edges(record)) / len(edges) if edges else None


def _names(line: str, text: str) -> bool:
    """``text`` occurs in ``line`` as a whole phrase, not inside a longer action text."""
    start = line.find(text)
    while start >= 0:
        end = start + len(text)
        if not _in_word(line, start - 1) and not _in_word(line, end):
            return True
        start = line.find(text, start + 1)
    return False


def _in_word(line: str, at: int) -> bool:
    return 0 <= at < len(line) and (line[at].isalnum() or line[at] in "_-")
