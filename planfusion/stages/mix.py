"""Control over the mix (#13): family shares and floors for the fusion, the outlier guard and quality
weights, turned into NovelSelect's exact constraints (groups, quotas, floors, exclude, weights).

The functions' own defaults switch everything off (shares "free", no floors, no guard, no weights): the
selection is then the paper's Eq. 1 exactly. The pipeline's defaults (planfusion.settings) differ in one
place, measured in the README ("Mix controls"): the fusion keeps each family's share of the union
(shares "pool"); ``fusion.shares: free`` gives Eq. 1 back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

SHARE_MODES = ("free", "pool", "equal")
# Quality weights: a task's novelty is multiplied by the product of one factor per quality signal.
UNVERIFIED = 0.5  # admitted without an independent verifier pass (curation.allow_unverified)
WITHOUT_REFLECTION = 0.9  # the trajectory has no reflection step
LEVEL_FACTORS: Mapping[int, float] = {1: 0.8, 2: 0.9}  # easy tasks; other and unknown levels: 1.0


@dataclass(frozen=True)
class Exclusion:
    """Rows kept out of the selection (they stay in the pool: density and the others' scores are
    unchanged). mask: (N,) bool; reason: why, for lineage; threshold: the largest excluded sigma."""

    mask: np.ndarray
    reason: str
    threshold: float | None

    def rows(self, task_ids: Sequence[str], sigma: np.ndarray, families: Sequence[str] | None = None) -> list[dict]:
        """One lineage row per excluded task: task_id, (family,) sigma and reason."""
        return [{"task_id": task_ids[i], **({"family": families[i]} if families is not None else {}),
                 "sigma": float(sigma[i]), "reason": self.reason} for i in np.flatnonzero(self.mask)]


def outlier_guard(sigma: np.ndarray, share: float) -> Exclusion:
    """Exclude the pool's sparsest ``share`` (in [0, 0.5)) from selection: the floor(share * N) rows with
    the lowest sigma (sigma = 1 / sum of kNN distances, so low sigma = isolated; equal sigma: lower index
    first). Eq. 1 favours isolated tasks, and an isolated task is as often an oddity as a rare skill."""
    sigma = np.asarray(sigma, dtype=np.float64)
    if not 0 <= share < 0.5:
        raise ValueError(f"exclude_sparsest must be a share in [0, 0.5), got {share!r}")
    n = len(sigma)
    m = int(np.floor(share * n + 1e-9))
    mask = np.zeros(n, dtype=bool)
    if m == 0:
        return Exclusion(mask, "", None)
    sparsest = np.argsort(sigma, kind="stable")[:m]
    mask[sparsest] = True
    threshold = float(sigma[sparsest[-1]])
    reason = (f"outlier guard: sigma in the sparsest {share * 100:g}% of the pool "
              f"({m} of {n}, sigma <= {threshold:.6g})")
    return Exclusion(mask, reason, threshold)


def quality_weights(
    signals: Iterable[Mapping[str, Any]], *, unverified: float = UNVERIFIED,
    without_reflection: float = WITHOUT_REFLECTION, levels: Mapping[int, float] = LEVEL_FACTORS,
) -> np.ndarray:  # fmt: skip
    """(N,) novelty multipliers in (0, 1], one per task: the product of ``unverified`` (not verified),
    ``without_reflection`` (no reflection) and ``levels[level]`` (difficulty level; 1.0 if absent).
    With the defaults: 0.5, 0.9, level 1: 0.8, level 2: 0.9; the lowest weight is 0.36.

    Each signal is a curated row as tables.quality_signals gives it ({"verified", "tags", "level"}) or a
    record ({"quality": {"has_reflection"}, "difficulty": {"level"}}, with "verified" if known): not
    verified means verified is False or the tags say "unverified"; reflection means the tags say
    "reflection" or quality.has_reflection is true."""
    factors = {"unverified": unverified, "without_reflection": without_reflection}
    factors.update({f"levels[{k}]": v for k, v in levels.items()})
    for name, value in factors.items():
        if not 0 < value <= 1:
            raise ValueError(f"quality factor {name} must be in (0, 1], got {value!r}")
    weights = []
    for signal in signals:
        tags = signal.get("tags") or ()
        quality, difficulty = signal.get("quality") or {}, signal.get("difficulty") or {}
        w = 1.0
        if signal.get("verified") is False or "unverified" in tags:
            w *= unverified
        if not ("reflection" in tags or quality.get("has_reflection") is True):
            w *= without_reflection
        w *= levels.get(signal.get("level", difficulty.get("level")), 1.0)
        weights.append(w)
    return np.array(weights, dtype=np.float64)


def apportion(
    budget: int, shares: Mapping[str, float], low: Mapping[str, int], high: Mapping[str, int]
) -> dict[str, int]:
    """Whole picks per family that add up to ``budget``, each within [low, high], as close to its share
    as the bounds allow: the real allotment clip(lam * share, low, high), lam chosen so they add up to
    the budget (a family that cannot take its share passes the rest to the others in proportion to
    theirs), then the largest remainders get the picks left (equal remainders: family name order).
    shares >= 0 (normalised here); raises ValueError when no allotment meets the bounds."""
    names = sorted(shares)
    s = np.array([float(shares[f]) for f in names])
    lo = np.array([int(low.get(f, 0)) for f in names], dtype=np.int64)
    hi = np.array([int(high[f]) for f in names], dtype=np.int64)
    if not (np.isfinite(s).all() and (s >= 0).all() and s.sum() > 0):
        raise ValueError(f"shares must be >= 0 with a positive total, got {dict(shares)}")
    if (lo > hi).any():
        f = names[int(np.argmax(lo > hi))]
        raise ValueError(f"{f}: a floor of {low[f]} picks but only {high[f]} selectable tasks")
    if lo.sum() > budget:
        raise ValueError(f"the floors add up to {lo.sum()} picks, more than the budget {budget}")
    s = s / s.sum()
    total = lambda lam: float(np.clip(lam * s, lo, hi).sum())  # noqa: E731 - piecewise linear in lam
    points = np.unique(np.concatenate([[0.0], lo[s > 0] / s[s > 0], hi[s > 0] / s[s > 0]]))
    reached = np.array([total(p) for p in points])
    if reached[-1] < budget:
        raise ValueError(f"the families with a positive share can take at most {int(reached[-1])} picks, "
                         f"fewer than the budget {budget}")
    i = int(np.argmax(reached >= budget))
    lam = points[0] if i == 0 else points[i - 1] + (budget - reached[i - 1]) * (points[i] - points[i - 1]) / (
        reached[i] - reached[i - 1])
    x = np.clip(lam * s, lo, hi)
    counts = np.clip(np.floor(x + 1e-9).astype(np.int64), lo, hi)
    remainder = np.round(x - counts, 9)
    short = max(0, budget - int(counts.sum()))
    for j in sorted(np.flatnonzero(counts < hi), key=lambda j: (-remainder[j], names[j]))[:short]:
        counts[j] += 1
    return dict(zip(names, counts.tolist()))


@dataclass(frozen=True)
class FamilyMix:
    """The fusion's family constraints for novel_select: families (G,) sorted names, groups (N,) each
    row's family index, quotas (G,) exact counts for a share mode (None for "free"), floors (G,)
    minimum picks (None without), and for the report the target shares (None for "free")."""

    families: list[str]
    groups: np.ndarray
    quotas: np.ndarray | None
    floors: np.ndarray | None
    target_shares: dict[str, float] | None

    def constraints(self) -> dict[str, Any]:
        """novel_select's keyword arguments (none when nothing constrains the families)."""
        if self.quotas is None and self.floors is None:
            return {}
        return {"groups": self.groups, "quotas": self.quotas, "floors": self.floors}


def family_mix(
    families: Sequence[str], budget: int, shares: str | Mapping[str, float] = "free",
    floors: Mapping[str, int] | None = None, selectable: np.ndarray | None = None,
) -> FamilyMix:  # fmt: skip
    """Family constraints for a fused set of ``budget`` from a pool whose rows belong to ``families``.

    shares: "free" (Eq. 1 over the union: no quotas), "pool" (each family's share of the pool),
    "equal", or a mapping family -> share (normalised; every family in the pool needs one, 0 to leave
    it out; families absent from the pool are ignored). A share mode fixes each family's count
    (apportion, within its selectable rows). floors: family -> minimum picks, capped at what the family
    has selectable (a small family gives all it has); with shares they bound the apportioned counts,
    with "free" they reach novel_select (the last picks go to families below their floors once all
    are owed). selectable: (N,) bool, the rows not excluded."""
    names = sorted(set(families))
    index = {f: g for g, f in enumerate(names)}
    groups = np.array([index[f] for f in families], dtype=np.int64)
    selectable = np.ones(len(groups), dtype=bool) if selectable is None else selectable
    available = np.bincount(groups[selectable], minlength=len(names))
    floors = dict(floors or {})
    bad = {f: v for f, v in floors.items() if int(v) != v or v < 0}
    if bad:
        raise ValueError(f"floors must be whole numbers of picks >= 0, got {bad}")
    floor = np.array([min(int(floors.get(f, 0)), int(available[g])) for g, f in enumerate(names)], dtype=np.int64)
    floor_arg = floor if floor.any() else None
    if isinstance(shares, str) and shares == "free":
        if floor.sum() > budget:
            raise ValueError(f"the floors add up to {floor.sum()} picks, more than the budget {budget}")
        return FamilyMix(names, groups, None, floor_arg, None)
    if isinstance(shares, str):
        if shares not in SHARE_MODES:
            raise ValueError(f"unknown shares mode {shares!r}; expected one of {', '.join(SHARE_MODES)} or a mapping")
        pool = np.bincount(groups, minlength=len(names))
        weights = dict(zip(names, pool.tolist() if shares == "pool" else [1.0] * len(names)))
    else:
        missing = [f for f in names if f not in shares]
        if missing:
            raise ValueError(f"shares give no share for {', '.join(missing)} (in the pool; give 0 to leave it out)")
        weights = {f: float(shares[f]) for f in names}
    quotas = apportion(budget, weights, dict(zip(names, floor.tolist())), dict(zip(names, available.tolist())))
    target = {f: round(weights[f] / sum(weights.values()), 6) for f in names}  # apportion checked the total
    return FamilyMix(names, groups, np.array([quotas[f] for f in names], dtype=np.int64), None, target)
