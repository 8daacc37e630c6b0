"""Reading WorfBench workflow text and asking reachability questions of it (verifier side).

Nothing here imports the generator: answers are parsed from their text alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

_NODE = re.compile(r"(\d+)\s*:\s*(\S.*)")
_EDGE = re.compile(r"\(\s*(START|END|\d+)\s*,\s*(START|END|\d+)\s*\)", re.IGNORECASE)
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
    """``Node:`` then ``k: <action>`` lines numbered 1..n, then ``Edge:`` with ``(a,b)`` pairs.

    Headers and START/END are read case-insensitively; everything else must be exactly in shape.
    """
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
    for a, b in ((a.upper(), b.upper()) for a, b in _EDGE.findall(edge_text)):
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


def closure(n: int, edges: Iterable[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """Reachability over nodes 1..n: ``(reach, stuck)``.

    ``reach[v]`` is a bitset (bit w set when w is reachable from v by one or more edges); ``stuck``
    lists the nodes Kahn's algorithm cannot order, i.e. on or after a cycle. When ``stuck`` is not
    empty, ``reach`` is only meaningful for the other nodes.
    """
    succ: list[list[int]] = [[] for _ in range(n + 1)]
    waiting = [0] * (n + 1)
    for a, b in set(edges):
        succ[a].append(b)
        waiting[b] += 1
    ready = [v for v in range(1, n + 1) if waiting[v] == 0]
    order: list[int] = []
    while ready:
        v = ready.pop()
        order.append(v)
        for w in succ[v]:
            waiting[w] -= 1
            if waiting[w] == 0:
                ready.append(w)
    reach = [0] * (n + 1)
    for v in reversed(order):
        bits = 0
        for w in succ[v]:
            bits |= reach[w] | 1 << w
        reach[v] = bits
    return reach, [v for v in range(1, n + 1) if waiting[v] > 0]
