"""Typed reads of the warehouse tables, one function per question a stage asks, so the SQL lives
here and the Dagster assets stay thin. Writes go through ``warehouse.replace_rows``."""

from __future__ import annotations

import json
from typing import Any, Iterator, Sequence

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from planfusion import warehouse
from planfusion.embedding import DIMENSION
from planfusion.novelsum import Density

FAMILY_TABLES = ("raw_tasks", "ingest_rejections", "curated_tasks", "task_embeddings", "density_factors",
                 "family_selection")
# Each family stage, the table it writes and the columns that say what it holds (its data version).
CONTENT_COLUMNS: dict[str, str] = {
    "raw_tasks": "task_id, content_hash",
    "ingest_rejections": "file_path, line_number, field, reason",
    "curated_tasks": "task_id, content_hash, kept, reason",
    "task_embeddings": "task_id, text_hash, model_revision, embedding_scheme",
    "density_factors": "task_id, sigma, k",
    "family_selection": "task_id, pick_step, novelty",
    "fused_training_set": "task_id, family, fusion_step, novelty",
}


# The order curation reads a family's raw tasks in (deduplication keeps the first copy): generated first,
# then files by path and line; a negative right after its clean parent.
RAW_ORDER = "source DESC, file_path, line_number, sample_index, perturbation NULLS FIRST, task_id"


def raw_records(con: duckdb.DuckDBPyConnection, family: str) -> list[dict[str, Any]]:
    """The family's raw tasks with their parsed record, in RAW_ORDER."""
    return [row for batch in raw_record_batches(con, family) for row in batch]


def raw_record_batches(con: duckdb.DuckDBPyConnection, family: str, batch: int = 500) -> Iterator[list[dict[str, Any]]]:
    """raw_records, ``batch`` rows at a time. The order is taken on the ids alone and the records (some
    20 KB each) fetched a batch at a time, so DuckDB never sorts or holds a family's records; each query
    is read whole before the next, so the caller may write on ``con`` between batches.

    Records are fetched by rowid, which DuckDB reads from the row groups holding them, where a fetch by
    task id scans the whole family each time (the first 20,000 of a family of 110,000: 78 s by task id,
    4 s by rowid): rows are stored in nearly this order. A rowid can move when DuckDB compacts the table: rows are matched by the task id they
    hold, and a task not found at its rowid is fetched by id."""
    order = con.execute(f"SELECT rowid, task_id FROM raw_tasks WHERE family = ? ORDER BY {RAW_ORDER}",
                        [family]).fetchall()
    for lo in range(0, len(order), batch):
        chunk = order[lo : lo + batch]
        found = {r[0]: r for r in con.execute("""SELECT task_id, family, content_hash, record FROM raw_tasks
                                                 WHERE rowid IN (SELECT unnest(?::BIGINT[])) AND family = ?""",
                                              [[r for r, _ in chunk], family]).fetchall()}
        moved = [t for _, t in chunk if t not in found]
        if moved:
            found |= {r[0]: r for r in con.execute("""SELECT task_id, family, content_hash, record FROM raw_tasks
                                                      WHERE family = ? AND task_id IN (SELECT unnest(?::VARCHAR[]))""",
                                                   [family, moved]).fetchall()}
        yield [{"task_id": t, "family": found[t][1], "content_hash": found[t][2], "record": json.loads(found[t][3])}
               for _, t in chunk]


def raw_order_version(con: duckdb.DuckDBPyConnection, family: str) -> str:
    """A hash of the family's raw tasks (id, content) in the order curation reads them: deduplication's
    outcome depends on that order, which data_version does not see (e.g. a renamed inbox file)."""
    return con.execute(f"""SELECT md5(coalesce(string_agg(task_id || ':' || content_hash, chr(10) ORDER BY {RAW_ORDER}),
                                               '')) FROM raw_tasks WHERE family = ?""", [family]).fetchone()[0][:16]


def duplicate_task_ids(con: duckdb.DuckDBPyConnection, family: str, limit: int = 5) -> list[str]:
    return [r[0] for r in con.execute("""SELECT task_id FROM raw_tasks WHERE family = ? GROUP BY task_id
                                         HAVING count(*) > 1 ORDER BY task_id LIMIT ?""", [family, limit]).fetchall()]


def kept_texts(con: duckdb.DuckDBPyConnection, family: str) -> list[dict[str, Any]]:
    """(task_id, text) of every kept task of the family, by task id."""
    return warehouse.query(con, """SELECT c.task_id, r.text FROM curated_tasks c JOIN raw_tasks r USING (family, task_id)
                                   WHERE c.family = ? AND c.kept ORDER BY c.task_id""", [family])


def cached_vectors(con: duckdb.DuckDBPyConnection, model: str, revision: str, scheme: str,
                   hashes: Sequence[str]) -> dict[str, np.ndarray]:
    """text hash -> cached (384,) float32 vector of this model, revision and embedding scheme."""
    rows = con.execute("""SELECT text_hash, embedding FROM embedding_cache WHERE model_name = ? AND model_revision = ?
                          AND embedding_scheme = ? AND text_hash IN (SELECT unnest(?::VARCHAR[]))""",
                       [model, revision, scheme, list(hashes)]).fetchall()
    return {h: np.asarray(v, dtype=np.float32) for h, v in rows}


def _vectors(rows: list[tuple]) -> tuple[list[str], list[str], np.ndarray]:
    vectors = np.array([r[2] for r in rows], dtype=np.float32).reshape(len(rows), DIMENSION)
    return [r[0] for r in rows], [r[1] for r in rows], vectors


def _matrix(column: pa.ChunkedArray, width: int, dtype: type = np.float32) -> np.ndarray:
    """A column of equal-length lists as an (n, width) array, without a Python object per value."""
    flat = column.combine_chunks().flatten() if len(column) else pa.array([], pa.float32())
    return np.asarray(flat.to_numpy(zero_copy_only=False), dtype=dtype).reshape(len(column), width)


def family_vectors(con: duckdb.DuckDBPyConnection, family: str) -> tuple[list[str], np.ndarray]:
    """Task ids and (n, 384) float32 embeddings of the family, by task id."""
    table = con.sql("""SELECT task_id, embedding FROM task_embeddings WHERE family = ?
                       ORDER BY task_id""", params=[family]).to_arrow_table()
    return table["task_id"].to_pylist(), _matrix(table["embedding"], DIMENSION)


def family_density(con: duckdb.DuckDBPyConnection, family: str, task_ids: Sequence[str]) -> Density:
    """The Density of a family's pool from its density_factors rows (task_ids: family_vectors' order)."""
    table = con.sql("""SELECT task_id, sigma, k, neighbour_ids, neighbour_distances FROM density_factors
                       WHERE family = ? ORDER BY task_id""", params=[family]).to_arrow_table()
    if table["task_id"].to_pylist() != list(task_ids):
        stored = set(table["task_id"].to_pylist())
        missing = [t for t in task_ids if t not in stored]
        raise ValueError(f"no density factor for {len(missing)} tasks, e.g. {missing[:3]}: rematerialize "
                         "density_factors" if missing else "density_factors has rows for tasks without an embedding: "
                         "rematerialize density_factors")
    k = int(table["k"][0].as_py()) if table.num_rows else 0
    ids = table["neighbour_ids"].combine_chunks().flatten()
    positions = pc.fill_null(pc.index_in(ids, value_set=pa.array(list(task_ids), pa.string())), -1)
    return Density(sigma=table["sigma"].to_numpy(), neighbours=positions.to_numpy(zero_copy_only=False).astype(np.int64).reshape(len(task_ids), k),
                   distances=_matrix(table["neighbour_distances"], k), k=k)


def selected_vectors(con: duckdb.DuckDBPyConnection) -> tuple[list[str], list[str], np.ndarray]:
    """Task ids, families and (n, 384) embeddings of every family's selection, by task id."""
    return _vectors(con.execute("""SELECT e.task_id, e.family, e.embedding FROM task_embeddings e
                                   JOIN family_selection s USING (family, task_id) ORDER BY e.task_id""").fetchall())


def embedding_revision(con: duckdb.DuckDBPyConnection, family: str) -> str | None:
    return con.execute("SELECT any_value(model_revision) FROM task_embeddings WHERE family = ?", [family]).fetchone()[0]


def family_pick_steps(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], int]:
    """(family, task id) -> step at which the family selection picked it."""
    return {(f, t): s for f, t, s in con.execute("SELECT family, task_id, pick_step FROM family_selection").fetchall()}


def selected_families(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute("SELECT DISTINCT family FROM family_selection ORDER BY family").fetchall()]


def family_picks(con: duckdb.DuckDBPyConnection, family: str) -> list[dict[str, Any]]:
    """The family's selection in pick order: task id, novelty at pick and the parameters it ran with."""
    return warehouse.query(con, """SELECT task_id, novelty, variant, budget, k, kappa1, kappa2, seed
                                   FROM family_selection WHERE family = ? ORDER BY pick_step""", [family])


def fused_picks(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """The fused set in pick order: family, task id, novelty at pick and the parameters (parsed JSON)."""
    rows = warehouse.query(con, """SELECT family, task_id, novelty, params FROM fused_training_set
                                   ORDER BY fusion_step""")
    for row in rows:
        row["params"] = json.loads(row["params"]) if row["params"] else {}
    return rows


def task_categories(con: duckdb.DuckDBPyConnection, family: str | None = None) -> dict[tuple[str, str], tuple[str, str]]:
    """(family, task id) -> (subtype, difficulty level as text, None when the record has none), for the
    family or every family."""
    where, params = ("WHERE family = ?", [family]) if family is not None else ("", [])
    rows = con.execute(f"""SELECT family, task_id, any_value(subtype),
                                  any_value(json_extract_string(record, '$.difficulty.level'))
                           FROM raw_tasks {where} GROUP BY family, task_id""", params).fetchall()
    return {(f, t): (subtype, level) for f, t, subtype, level in rows}


def families_with_kept_tasks(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute("SELECT DISTINCT family FROM curated_tasks WHERE kept ORDER BY family").fetchall()]


def records_by_id(con: duckdb.DuckDBPyConnection, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], dict]:
    """(family, task id) -> the raw record."""
    rows = con.execute("""SELECT family, task_id, record FROM raw_tasks
                          WHERE (family || chr(31) || task_id) IN (SELECT unnest(?::VARCHAR[]))""",
                       [[f"{f}\x1f{t}" for f, t in keys]]).fetchall()
    return {(f, t): json.loads(r) for f, t, r in rows}


def quality_signals(con: duckdb.DuckDBPyConnection, keys: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """The quality signals of each (family, task id), in the order of keys, for mix.quality_weights:
    verified and tags from curated_tasks, the difficulty level from the record (None when absent)."""
    rows = con.execute("""SELECT DISTINCT c.family, c.task_id, c.verified, c.tags,
                                 TRY_CAST(json_extract(r.record, '$.difficulty.level') AS INTEGER)
                          FROM curated_tasks c JOIN raw_tasks r USING (family, task_id)
                          WHERE (c.family || chr(31) || c.task_id) IN (SELECT unnest(?::VARCHAR[]))""",
                       [[f"{f}\x1f{t}" for f, t in keys]]).fetchall()
    found = {(f, t): {"verified": v, "tags": list(tags or []), "level": level} for f, t, v, tags, level in rows}
    missing = [key for key in keys if key not in found]
    if missing:
        raise ValueError(f"no curated row for {len(missing)} tasks, e.g. {missing[:3]}")
    return [found[key] for key in keys]


def count_rows(con: duckdb.DuckDBPyConnection, table: str, family: str | None = None) -> int:
    """Rows of the table, or of one family's."""
    where, params = ("WHERE family = ?", [family]) if family is not None else ("", [])
    return con.execute(f"SELECT count(*) FROM {warehouse.TABLES[table].name} {where}", params).fetchone()[0]


def data_version(con: duckdb.DuckDBPyConnection, table: str, family: str | None = None) -> str:
    """A hash of what the table holds for the family (not who wrote it): equal rows, equal version, so
    Dagster marks downstream stages stale exactly when their input changed."""
    where, params = ("WHERE family = ?", [family]) if family is not None else ("", [])
    columns = CONTENT_COLUMNS[table]
    value = con.execute(f"""SELECT md5(coalesce(string_agg(CAST(ROW({columns}) AS VARCHAR), chr(10)
                                   ORDER BY {columns}), '')) FROM {table} {where}""", params).fetchone()[0]
    return value[:16]


def family_problems(con: duckdb.DuckDBPyConnection, family: str) -> list[str]:
    """Where the family's tables disagree (empty when every stage describes the same generation): a stage
    that failed after its upstream was rewritten leaves rows of two generations, and fusion must not mix
    them."""
    checks = [
        ("curated_tasks", "raw_tasks", """SELECT count(*) FROM raw_tasks r FULL JOIN curated_tasks c
            ON c.family = r.family AND c.task_id = r.task_id AND c.content_hash = r.content_hash
            WHERE coalesce(r.family, c.family) = ? AND (r.task_id IS NULL OR c.task_id IS NULL)"""),
        ("task_embeddings", "curated_tasks", """SELECT count(*) FROM (SELECT task_id FROM curated_tasks
            WHERE family = ?1 AND kept) c FULL JOIN (SELECT task_id FROM task_embeddings WHERE family = ?1) e
            USING (task_id) WHERE c.task_id IS NULL OR e.task_id IS NULL"""),
        ("density_factors", "task_embeddings", """SELECT count(*) FROM (SELECT task_id FROM task_embeddings
            WHERE family = ?1) e FULL JOIN (SELECT task_id FROM density_factors WHERE family = ?1) d
            USING (task_id) WHERE e.task_id IS NULL OR d.task_id IS NULL"""),
        ("family_selection", "density_factors", """SELECT count(*) FROM family_selection s
            WHERE s.family = ?1 AND NOT EXISTS (SELECT 1 FROM density_factors d
                                               WHERE d.family = s.family AND d.task_id = s.task_id)"""),
    ]
    problems = []
    for stage, upstream, sql in checks:
        disagree = con.execute(sql.replace("?1", "$1").replace("?", "$1"), [family]).fetchone()[0]
        if disagree:
            problems.append(f"{stage} disagrees with {upstream} on {disagree} tasks: rematerialize {stage} "
                            f"and the stages after it for {family}")
    return problems
