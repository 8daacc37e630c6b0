"""Structural signature and step count (with the too-easy threshold), read from the ground truth alone.

The signature is the task's structure with entity names (cities, datasets, people) erased: the gold
DAG with each node labelled by its action kind, the sub-goal depth, the kinds of the unneeded actions
on offer, and which dependencies the instruction states outright rather than only through artifacts.
Two records share it when one is the other with renamed entities, renumbered nodes or reshuffled
text. A node's label hashes its kind with its ancestors' labels, and with its descendants'.
"""

from __future__ import annotations

import hashlib
from typing import Any

from planfusion.tasks.family import Record
from planfusion.tasks.record import canonical_json, sha256_hex

# A workflow of fewer than three actions needs no decomposition (a single step, or one step feeding another);
# three is also the shortest chain the generator builds, so clean records never fall under it.
MIN_STEPS = 3


def count_steps(record: Record) -> int:
    """Nodes of the gold workflow (the task's size, whatever the answer claims)."""
    truth = record.get("ground_truth")
    nodes = truth.get("nodes") if isinstance(truth, dict) else None
    return len(nodes) if isinstance(nodes, list) else 0


def structural_signature(record: Record) -> str:
    truth, task = record.get("ground_truth"), record.get("task")
    try:
        label = _labels(truth)
        number = {text: k for k, text in enumerate(truth["nodes"])}
        stated = sorted(label[number[a]] + label[number[b]] for a, b in task["ordering_notes"])
        shape: Any = [_depth(truth.get("subgoals")), sorted(label), sorted(truth["distractor_kinds"]), stated]
    except (TypeError, KeyError, ValueError, IndexError, AttributeError):
        shape = ["unreadable", truth]
    return sha256_hex(canonical_json([record.get("family"), shape]))[:32]


def dag_signature(record: Record) -> str:
    """The gold workflow alone (kinds, edges, sub-goal depth): what the answers of two records share."""
    truth = record.get("ground_truth")
    try:
        shape: Any = [_depth(truth.get("subgoals")), sorted(_labels(truth))]
    except (TypeError, KeyError, ValueError, IndexError, AttributeError):
        shape = ["unreadable", truth]
    return sha256_hex(canonical_json(["dag", shape]))[:32]


def _labels(truth: Any) -> list[str]:
    kinds = [str(k) for k in truth["kinds"]]
    edges = [(a - 1, b - 1) for a, b in truth["edges"]]
    down = _rolled(kinds, edges)
    up = _rolled(kinds, [(b, a) for a, b in edges])
    return [d + u for d, u in zip(down, up)]


def _rolled(kinds: list[str], edges: list[tuple[int, int]]) -> list[str]:
    """Per node, a hash of its kind and of its predecessors' hashes (in topological order)."""
    preds: list[list[int]] = [[] for _ in kinds]
    for a, b in edges:
        preds[b].append(a)
    memo: dict[int, str] = {}

    def visit(v: int, depth: int) -> str:
        if v not in memo:
            if depth > len(kinds):
                raise ValueError("cycle in ground truth")
            inner = "|".join(sorted(visit(p, depth + 1) for p in preds[v]))
            memo[v] = hashlib.blake2b(f"{kinds[v]}({inner})".encode(), digest_size=8).hexdigest()
        return memo[v]

    return [visit(v, 0) for v in range(len(kinds))]


def _depth(subgoals: Any) -> int:
    if not isinstance(subgoals, list) or not subgoals:
        return 0
    return 1 + max(_depth(g.get("subgoals")) if isinstance(g, dict) else 0 for g in subgoals)
