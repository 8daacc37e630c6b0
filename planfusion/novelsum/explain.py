"""``planfusion explain``: NovelSelect step by step on a small input, every candidate's score at every
step, so anyone can check the numbers by hand (the worked example in novelsum.md comes out exactly)."""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path
from typing import TextIO

import numpy as np

from planfusion.novelsum.density import embedding_density, precomputed_density
from planfusion.novelsum.scoring import candidate_scores
from planfusion.novelsum.select import novel_select
from planfusion.novelsum.validation import VARIANTS, distance_matrix, unit_embeddings

MAX_EXPLAIN = 200


def read_matrix(path: Path) -> tuple[list[str], np.ndarray]:
    """A CSV of numbers, optionally with a header row of labels (and a first column of the same labels)."""
    with path.open(newline="") as f:
        rows = [row for row in csv.reader(f) if row and any(cell.strip() for cell in row)]
    if not rows:
        raise ValueError(f"{path}: empty file")

    def numeric(row: list[str]) -> bool:
        try:
            [float(c) for c in row]
            return True
        except ValueError:
            return False

    labels: list[str] | None = None
    if not numeric(rows[0]):
        labels = [c.strip() for c in rows[0]]
        rows = rows[1:]
    if rows and labels and not numeric(rows[0]) and numeric(rows[0][1:]):
        rows = [row[1:] for row in rows]  # a first column of row labels
        labels = labels[1:] if len(labels) == len(rows[0]) + 1 else labels
    values = []
    for i, row in enumerate(rows, start=2 if labels else 1):
        try:
            values.append([float(c) for c in row])
        except ValueError as e:
            raise ValueError(f"{path}, line {i}: not a number ({e})") from None
    if len({len(r) for r in values}) > 1:
        raise ValueError(f"{path}: rows have different lengths")
    matrix = np.array(values, dtype=np.float64)
    n = matrix.shape[0]
    if labels is None or len(labels) != n:
        labels = [f"x{i + 1}" for i in range(n)]
    return labels, matrix


def explain(
    data: np.ndarray,
    labels: list[str],
    *,
    budget: int,
    k: int,
    kappa1: float,
    kappa2: float,
    variant: str,
    metric: str,
    first: int | None,
    seed: int,
    out: TextIO,
) -> None:
    n = data.shape[0]
    if n > MAX_EXPLAIN:
        raise ValueError(f"explain prints every candidate at every step: at most {MAX_EXPLAIN} samples, got {n}")
    if metric == "precomputed":
        dist = distance_matrix(data)
        density = precomputed_density(dist, k)
    else:
        unit = unit_embeddings(data)
        dist = np.clip(1.0 - unit.astype(np.float64) @ unit.T.astype(np.float64), 0.0, 2.0)
        density = embedding_density(unit, k, unit=True)
    selection = novel_select(
        data, budget, k=k, kappa1=kappa1, kappa2=kappa2, variant=variant, metric=metric,
        first=first, random_state=seed, density=density,
    )
    weight = density.sigma**kappa2
    width = max(8, *(len(label) for label in labels))
    out.write(f"variant={variant} K={k} kappa1={kappa1} kappa2={kappa2} budget={budget}\n")
    out.write("sigma (density factors, K nearest neighbours, self excluded):\n")
    for i, label in enumerate(labels):
        nbrs = ", ".join(f"{labels[j]}:{d:.6g}" for j, d in zip(density.neighbours[i], density.distances[i]))
        out.write(f"  {label:>{width}}  {density.sigma[i]:.6f}   neighbours {nbrs}\n")
    how = f"index {first}" if first is not None else f"random, seed {seed}"
    out.write(f"step 1: pick {labels[selection.order[0]]} (first pick: {how})\n")
    for step in range(1, budget):
        chosen = selection.order[:step]
        candidates = np.setdiff1d(np.arange(n), chosen)
        scores = candidate_scores(dist[np.ix_(candidates, chosen)], weight[chosen], weight[candidates],
                                  variant=variant, kappa1=kappa1)
        pick = selection.order[step]
        out.write(f"step {step + 1}: S = {{{', '.join(labels[j] for j in chosen)}}}\n")
        for c, score in zip(candidates, scores):
            mark = "  <- pick" if c == pick else ""
            out.write(f"  {labels[c]:>{width}}  {score:.6f}{mark}\n")
    out.write("order: " + ", ".join(labels[j] for j in selection.order) + "\n")


def _run(args: argparse.Namespace) -> int:
    try:
        labels, data = read_matrix(Path(args.file))
        first = None
        if args.first is not None:
            first = labels.index(args.first) if args.first in labels else int(args.first)
        explain(
            data, labels, budget=args.budget or data.shape[0], k=args.k, kappa1=args.kappa1, kappa2=args.kappa2,
            variant=args.variant, metric="cosine" if args.embeddings else "precomputed",
            first=first, seed=args.seed, out=sys.stdout,
        )
    except (ValueError, OSError) as e:
        print(f"planfusion explain: error: {e}", file=sys.stderr)
        return 2
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "explain",
        help="NovelSelect step by step on a small CSV input",
        description="Print sigma and, step by step, every candidate's novelty score and the pick. "
        "FILE is a CSV distance matrix (optionally with a header row of labels), or embeddings with --embeddings.",
    )
    p.add_argument("file", metavar="FILE")
    p.add_argument("--embeddings", action="store_true", help="FILE holds one embedding per row (cosine distance)")
    p.add_argument("--variant", choices=VARIANTS, default="magicagent")
    p.add_argument("--k", type=int, default=2, help="neighbours for density (default 2 for small inputs)")
    p.add_argument("--kappa1", type=float, default=1.0)
    p.add_argument("--kappa2", type=float, default=0.5)
    p.add_argument("--budget", type=int, default=None, help="default: the whole pool")
    p.add_argument("--first", default=None, help="first pick: a label or an index; default: random with --seed")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=_run)
