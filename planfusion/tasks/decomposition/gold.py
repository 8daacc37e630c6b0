"""The gold workflow of a draft: the transitive reduction of its producer->consumer edges (the edges no
longer path implies, as WorfBench and the prompt have it), sub-goal groups, and the node numbering.

Generator side. The transitive reduction here walks ancestor bitsets of each step's inputs; the
verifier re-derives the graph from the task text with its own, descendant-based code.
"""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass
from typing import Any

from planfusion.tasks.decomposition.draft import Draft, Step

SHARED_FIRST = "Shared groundwork"
SHARED_LAST = "Bringing it together"


@dataclass(frozen=True)
class Gold:
    order: tuple[int, ...]                   # step index of node 1, 2, ...
    edges: tuple[tuple[int, int], ...]       # the reduction, as 1-based node numbers, sorted
    implied: tuple[tuple[int, int], ...]     # producer->consumer pairs already implied by longer paths
    subgoals: list[dict[str, Any]]           # [{"title", "steps": [numbers]} | {"title", "subgoals": [...]}]
    depth: int                               # nodes on the longest path
    width: int                               # most nodes at one depth
    joins: int                               # nodes with two or more gold edges in


def build_gold(draft: Draft) -> Gold:
    steps = draft.steps
    ancestors = [0] * len(steps)
    for i, step in enumerate(steps):
        for p in step.inputs:
            ancestors[i] |= ancestors[p] | (1 << p)
    direct: list[tuple[int, int]] = []
    implied: list[tuple[int, int]] = []
    for i, step in enumerate(steps):
        for p in step.inputs:
            redundant = any(ancestors[q] >> p & 1 for q in step.inputs if q != p)
            (implied if redundant else direct).append((p, i))

    paths = _group_paths(draft, ancestors)
    order = _number(steps, paths)
    number = {step: k + 1 for k, step in enumerate(order)}
    layer = [0] * len(steps)
    for i, step in enumerate(steps):
        layer[i] = 1 + max((layer[p] for p in step.inputs), default=0)
    preds = [0] * len(steps)
    for _, i in direct:
        preds[i] += 1
    return Gold(
        order=order,
        edges=tuple(sorted((number[p], number[i]) for p, i in direct)),
        implied=tuple(sorted((number[p], number[i]) for p, i in implied)),
        subgoals=_tree([(paths[i], number[i]) for i in range(len(steps))], 0),
        depth=max(layer),
        width=max(Counter(layer).values()),
        joins=sum(1 for n in preds if n >= 2),
    )


def _group_paths(draft: Draft, ancestors: list[int]) -> list[tuple[tuple[int, str], ...]]:
    """Each step's sub-goal path, (rank, title) per level: aspect; item then aspect; phase, item, aspect."""
    domain = draft.domain
    aspect_rank = {key: r for r, key in enumerate(domain.aspects)}
    feeds_items = 0
    for i, step in enumerate(draft.steps):
        if step.item is not None:
            feeds_items |= ancestors[i]
    last = len(draft.items) + 1
    paths = []
    for i, step in enumerate(draft.steps):
        aspect = (aspect_rank[step.action.aspect], domain.aspects[step.action.aspect])
        if step.item is not None:
            scope = (1 + draft.items.index(step.item), domain.item_title.format(item=step.item))
        elif feeds_items >> i & 1:
            scope = (0, SHARED_FIRST)
        else:
            scope = (last, SHARED_LAST)
        if draft.levels == 1:
            paths.append((aspect,))
        elif draft.levels == 2:
            paths.append((scope, aspect))
        elif step.item is not None:
            paths.append(((1, f"Work per {domain.item_noun}"), scope, aspect))
        else:
            paths.append(((0 if scope[0] == 0 else 2, scope[1]), aspect))
    return paths


def _number(steps: tuple[Step, ...], paths: list[tuple[tuple[int, str], ...]]) -> tuple[int, ...]:
    """A topological order that keeps each sub-goal's steps together where the dependencies allow."""
    waiting = [len(step.inputs) for step in steps]
    consumers: list[list[int]] = [[] for _ in steps]
    for i, step in enumerate(steps):
        for p in step.inputs:
            consumers[p].append(i)
    key = [tuple(rank for rank, _ in path) for path in paths]
    ready = [(key[i], i) for i, n in enumerate(waiting) if n == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        _, i = heapq.heappop(ready)
        order.append(i)
        for c in consumers[i]:
            waiting[c] -= 1
            if waiting[c] == 0:
                heapq.heappush(ready, (key[c], c))
    return tuple(order)


def _tree(entries: list[tuple[tuple[tuple[int, str], ...], int]], level: int) -> list[dict[str, Any]]:
    groups: dict[tuple[int, str], list[tuple[tuple[tuple[int, str], ...], int]]] = {}
    for path, number in entries:
        groups.setdefault(path[level], []).append((path, number))
    tree: list[dict[str, Any]] = []
    for head in sorted(groups):
        members = groups[head]
        if len(members[0][0]) == level + 1:
            tree.append({"title": head[1], "steps": sorted(n for _, n in members)})
        else:
            tree.append({"title": head[1], "subgoals": _tree(members, level + 1)})
    return tree
