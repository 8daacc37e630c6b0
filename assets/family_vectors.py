"""Reading a family's (or all families') embeddings back from the warehouse as arrays."""

from __future__ import annotations

import duckdb
import numpy as np


def load_vectors(con: duckdb.DuckDBPyConnection, where: str, params: list) -> tuple[list[str], list[str], np.ndarray]:
    """(task ids, families, (n, 384) float32) for task_embeddings rows matching ``where``, by task id."""
    rows = con.execute(
        f"SELECT task_id, family, embedding FROM task_embeddings WHERE {where} ORDER BY task_id", params
    ).fetchall()
    vectors = np.array([r[2] for r in rows], dtype=np.float32).reshape(len(rows), -1)
    return [r[0] for r in rows], [r[1] for r in rows], vectors
