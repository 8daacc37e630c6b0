"""WorfBench-style scores of a parsed answer against the gold workflow (verifier side).

f1_chain compares the answer's node sequence with a gold topological order by longest increasing
subsequence, as WorfBench does; of the many gold orders it uses the one that follows the answer's
order wherever the gold dependencies allow, so a correct plan in any valid order scores 1.
f1_graph compares edges (START/END included) after mapping answer nodes to gold nodes by text.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left

from planfusion.tasks.decomposition.workflow import END, START, Workflow


def _f1(hits: int, predicted: int, expected: int) -> float:
    if not hits:
        return 0.0
    precision, recall = hits / predicted, hits / expected
    return round(2 * precision * recall / (precision + recall), 6)


def f1_chain(mapped: list[int], n_gold: int, edges: list[tuple[int, int]]) -> float:
    """``mapped[i]``: gold index of answer node i+1, or -1; ``edges``: 0-based gold edges."""
    first: dict[int, int] = {}
    for position, k in enumerate(mapped):
        if k >= 0:
            first.setdefault(k, position)
    waiting = [0] * n_gold
    succ: list[list[int]] = [[] for _ in range(n_gold)]
    for a, b in edges:
        succ[a].append(b)
        waiting[b] += 1
    ready = [(first.get(k, len(mapped) + k), k) for k in range(n_gold) if waiting[k] == 0]
    heapq.heapify(ready)
    rank: dict[int, int] = {}
    while ready:
        _, k = heapq.heappop(ready)
        rank[k] = len(rank)
        for c in succ[k]:
            waiting[c] -= 1
            if waiting[c] == 0:
                heapq.heappush(ready, (first.get(c, len(mapped) + c), c))
    tails: list[int] = []
    for k in mapped:
        if k in rank:  # unmapped (-1), or stuck on a cycle in a malformed gold
            at = bisect_left(tails, rank[k])
            tails[at:at + 1] = [rank[k]]
    return _f1(len(tails), len(mapped), n_gold)


def f1_graph(answer: Workflow, mapped: list[int], n_gold: int, edges: list[tuple[int, int]]) -> float:
    """Edge F1 after mapping answer nodes to gold indices (unmapped nodes never match)."""
    def label(position: int) -> object:
        k = mapped[position - 1]
        return k if k >= 0 else ("unmapped", position)

    predicted = ({(label(a), label(b)) for a, b in answer.edges} | {(START, label(v)) for v in answer.starts}
                 | {(label(v), END) for v in answer.ends})
    has_pred = {b for _, b in edges}
    has_succ = {a for a, _ in edges}
    expected = (set(edges) | {(START, k) for k in range(n_gold) if k not in has_pred}
                | {(k, END) for k in range(n_gold) if k not in has_succ})
    return _f1(len(predicted & expected), len(predicted), len(expected))
