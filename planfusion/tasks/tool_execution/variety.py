"""How varied a batch of tool_execution records is as SFT data: how many request templates it draws on, how
repetitive the request texts are, and whether multi-backend records really link their backends."""

from __future__ import annotations

import re
from typing import Any, Iterable

from planfusion.tasks.tool_execution.coherence import reference_calls, self_cancelling
from planfusion.tasks.tool_execution.env import TOOLS

_WORD = re.compile(r"\w+")


def variety(records: Iterable[dict[str, Any]]) -> dict[str, float]:
    """request_kinds / request_templates: distinct templates (kinds) and (kind, wording) pairs used;
    distinct_3gram_ratio: distinct word 3-grams over all 3-grams of the user messages;
    cross_backend_touched: share of cross_backend records whose reference calls touch two or more backends;
    cross_backend_linked: share of cross_backend records where a call uses a value read from another backend
    (a depends_on edge between backends), i.e. a request that needs several backends together;
    self_cancelling: share of records with a request undoing an earlier one (see coherence)."""
    templates: set[tuple[str, int]] = set()
    grams: set[tuple[str, ...]] = set()
    total = n = cross = touched = linked = cancelling = 0
    for record in records:
        n += 1
        templates.update((r["kind"], r["wording"]) for turn in record["ground_truth"]["turns"]
                         for r in turn.get("requests", ()))
        for message in record["trajectory"]:
            if message["role"] == "user":
                words = _WORD.findall(message["content"].lower())
                found = list(zip(words, words[1:], words[2:]))
                grams.update(found)
                total += len(found)
        if record["subtype"] == "cross_backend":
            calls = reference_calls(record)
            backend = [TOOLS[c["name"]].backend for c in calls]
            cross += 1
            touched += len(set(backend)) >= 2
            linked += any(backend[d] != backend[i] for i, c in enumerate(calls) for d in c["depends_on"])
        cancelling += bool(self_cancelling(record))
    return {"request_kinds": float(len({kind for kind, _ in templates})), "request_templates": float(len(templates)),
            "distinct_3gram_ratio": len(grams) / total if total else 0.0,
            "cross_backend_touched": touched / cross if cross else 0.0,
            "cross_backend_linked": linked / cross if cross else 0.0,
            "self_cancelling": cancelling / n if n else 0.0}
