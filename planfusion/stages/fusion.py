"""Stage 6: NovelSelect over the union of the family selections, density recomputed on the union,
and the fused set written as chat-format JSONL and Parquet ready for fine-tuning tools."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from planfusion.novelsum import embedding_density, novelsum
from planfusion.stages.selection import SelectionParams, select, selection_rows


def fuse(
    task_ids: Sequence[str], families: Sequence[str], vectors: np.ndarray, params: SelectionParams
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Rows of the fused set in pick order, and a report: family shares and NovelSum of the fused set
    against a random subset of the same size and against the whole union (same sigma for all three)."""
    params = params.for_pool(len(task_ids))
    density = embedding_density(vectors, params.k)
    selection = select(vectors, params, density)
    rows = selection_rows(task_ids, selection)
    for row, i in zip(rows, selection.order):
        row["family"] = families[i]
        row["sigma"] = float(density.sigma[i])
        row["fusion_step"] = row.pop("pick_step")
    chosen = selection.order
    random = np.random.default_rng(params.seed).choice(len(task_ids), len(chosen), replace=False)
    score = lambda idx: novelsum(vectors[idx], density.sigma[idx], kappa1=params.kappa1, kappa2=params.kappa2)
    shares = Counter(families[i] for i in chosen)
    report = {
        "budget": params.budget,
        "k": params.k,
        "pool": len(task_ids),
        "family_counts": dict(sorted(shares.items())),
        "family_shares": {f: round(c / len(chosen), 4) for f, c in sorted(shares.items())},
        "novelsum_fused": score(chosen),
        "novelsum_random": score(random),
        "novelsum_union": score(np.arange(len(task_ids))),
    }
    return rows, report


def chat_example(record: dict[str, Any], fused: dict[str, Any]) -> dict[str, Any]:
    """One SFT example: the trajectory's messages (role, content, reasoning, tool calls) plus provenance."""
    messages = []
    for m in record["trajectory"]:
        message = {"role": m["role"], "content": m.get("content", "")}
        for key in ("think", "tool_calls", "tool_call_id", "name"):
            if m.get(key) is not None:
                message["reasoning_content" if key == "think" else key] = m[key]
        messages.append(message)
    return {
        "id": record["id"],
        "family": record["family"],
        "subtype": record["subtype"],
        "messages": messages,
        "metadata": {"fusion_step": fused["fusion_step"], "novelty": fused["novelty"],
                     "content_hash": record["lineage"]["content_hash"]},
    }


def write_exports(examples: Sequence[dict[str, Any]], directory: str | Path) -> dict[str, str]:
    """Write fused_training_set.jsonl and .parquet atomically (temp file, then rename)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    jsonl, parquet = directory / "fused_training_set.jsonl", directory / "fused_training_set.parquet"
    tmp = jsonl.with_suffix(".jsonl.tmp")
    tmp.write_text("".join(json.dumps(e, ensure_ascii=False, sort_keys=True) + "\n" for e in examples))
    tmp.replace(jsonl)
    table = pa.table({
        "id": [e["id"] for e in examples],
        "family": [e["family"] for e in examples],
        "subtype": [e["subtype"] for e in examples],
        "messages": [json.dumps(e["messages"], ensure_ascii=False) for e in examples],
        "fusion_step": [e["metadata"]["fusion_step"] for e in examples],
        "novelty": [e["metadata"]["novelty"] for e in examples],
    })
    tmp = parquet.with_suffix(".parquet.tmp")
    pq.write_table(table, tmp)
    tmp.replace(parquet)
    return {"jsonl": str(jsonl), "parquet": str(parquet)}
