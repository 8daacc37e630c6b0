"""Reading WorfBench workflow text and asking reachability questions of it (verifier side).

Nothing here imports the generator: answers are parsed from their text alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NODE = re.compile(r"(\d+)\s*:\s*(\S.*)")
_EDGE = re.compile(r"\(\s*(START|END|\d+)\s*,\s*(START|END|\d+)\s*\)")
START, END = "START", "END"


class FormatError(ValueError):
    """The text is not a WorfBench workflow; the message says where it breaks."""


@dataclass(frozen=True)
class Workflow:
    nodes: tuple[str, ...]                 # text of node 1, 2, ...
    edges: tuple[tuple[int, int], ...]     # dependencies between nodes, 1-based, in order of appearance
    starts: tuple[int, ...]                # nodes joined to START
    ends: tuple[int, ...]                  # nodes joined to END


def normalize(text: str) -> str:
    """Action texts match ignoring case, runs of whitespace and a trailing full stop."""
    return " ".join(text.split()).casefold().rstrip(".")


def parse_workflow(text: object) -> Workflow:
    """``Node:`` then ``k: <action>`` lines numbered 1..n, then ``Edge:`` with ``(a,b)`` pairs."""
    if not isinstance(text, str):
        raise FormatError(f"the answer is {type(text).__name__}, not text")
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines or lines[0].casefold() != "node:":
        raise FormatError("the answer does not start with a 'Node:' line")
    edge_line = next((k for k, line in enumerate(lines) if line[:5].casefold() == "edge:"), None)
    if edge_line is None:
        raise FormatError("no 'Edge:' line")
    nodes: list[str] = []
    for line in lines[1:edge_line]:
        match = _NODE.fullmatch(line)
        if match is None:
            raise FormatError(f"node line {line!r} is not '<number>: <action>'")
        if int(match.group(1)) != len(nodes) + 1:
            raise FormatError(f"node line {line!r} should be numbered {len(nodes) + 1}")
        nodes.append(match.group(2).strip())
    if not nodes:
        raise FormatError("no nodes between 'Node:' and 'Edge:'")
    edge_text = " ".join([lines[edge_line][5:]] + lines[edge_line + 1:])
    leftover = _EDGE.sub(" ", edge_text).strip()
    if leftover:
        raise FormatError(f"unreadable edge text {leftover[:40]!r}")
    edges: list[tuple[int, int]] = []
    starts: list[int] = []
    ends: list[int] = []
    for a, b in _EDGE.findall(edge_text):
        if a == END or b == START or (a == START and b == END):
            raise FormatError(f"edge ({a},{b}) runs the wrong way")
        for end in (a, b):
            if end not in (START, END) and not 1 <= int(end) <= len(nodes):
                raise FormatError(f"edge ({a},{b}) names node {end}, but there are {len(nodes)} nodes")
        if a == START:
            starts.append(int(b))
        elif b == END:
            ends.append(int(a))
        else:
            edges.append((int(a), int(b)))
    return Workflow(tuple(nodes), tuple(edges), tuple(starts), tuple(ends))


def find_cycle(n: int, edges: list[tuple[int, int]] | tuple[tuple[int, int], ...]) -> list[int]:
    """Nodes (1..n) left over by Kahn's algorithm, i.e. on or behind a cycle; empty when acyclic."""
    waiting = [0] * (n + 1)
    succ: list[list[int]] = [[] for _ in range(n + 1)]
    for a, b in set(edges):
        succ[a].append(b)
        waiting[b] += 1
    ready = [v for v in range(1, n + 1) if waiting[v] == 0]
    done = 0
    while ready:
        v = ready.pop()
        done += 1
        for w in succ[v]:
            waiting[w] -= 1
            if waiting[w] == 0:
                ready.append(w)
    return [] if done == n else [v for v in range(1, n + 1) if waiting[v] > 0]


def reachable(n: int, edges: list[tuple[int, int]] | tuple[tuple[int, int], ...]) -> list[set[int]]:
    """``reach[v]``: every node reachable from v by one or more edges (works with cycles too)."""
    succ: list[set[int]] = [set() for _ in range(n + 1)]
    for a, b in edges:
        succ[a].add(b)
    reach: list[set[int]] = [set() for _ in range(n + 1)]
    for v in range(1, n + 1):
        seen = reach[v]
        stack = list(succ[v])
        while stack:
            w = stack.pop()
            if w not in seen:
                seen.add(w)
                stack.extend(succ[w])
    return reach
