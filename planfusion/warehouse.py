"""The DuckDB warehouse: one file, one table per pipeline stage, row-level lineage in every row.

Each per-family table is written idempotently: a rerun stages the family's new rows and swaps them in
with one transaction (delete, then insert), so a failed write leaves the previous rows intact and a
rerun never duplicates. Every row carries the keys of its upstream rows plus the run id, code version and
parameters that produced it. TABLES documents every column (the README renders the same text).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import duckdb
import pyarrow as pa

from planfusion.warehouse_errors import WarehouseWriteFailed

DEFAULT_DATABASE = "warehouse/planfusion.duckdb"
# DuckDB's own memory (sorts, joins, the buffer cache of the file) for a process: beyond it DuckDB spills
# to a temporary folder. Its default, 80% of the machine, would let a large family's stages grow the run
# worker by gigabytes of cached pages.
MEMORY_LIMIT = "1GB"

PROVENANCE = [
    ("run_id", "VARCHAR", "Dagster run that wrote the row"),
    ("code_version", "VARCHAR", "code version of the asset that wrote the row"),
    ("params", "JSON", "the parameters the stage ran with"),
]


@dataclass(frozen=True)
class Table:
    name: str
    doc: str
    columns: list[tuple[str, str, str]]  # (name, DuckDB type, description)
    partitioned: bool = True  # rows are replaced per family

    def ddl(self) -> str:
        cols = ",\n  ".join(f"{name} {dtype}" for name, dtype, _ in self.columns)
        return f"CREATE TABLE IF NOT EXISTS {self.name} (\n  {cols}\n)"


TABLES: dict[str, Table] = {
    t.name: t
    for t in [
        Table(
            "raw_tasks",
            "Every task of the family: generated, or read from a file in inbox/<family>/.",
            [
                ("family", "VARCHAR", "task family (the Dagster partition)"),
                ("task_id", "VARCHAR", "stable task id (family prefix + hash of generator, version, seed, params)"),
                ("subtype", "VARCHAR", "family subtype"),
                ("source", "VARCHAR", "'generator' or 'file'"),
                ("generator", "VARCHAR", "generator name (from the record's lineage)"),
                ("generator_version", "VARCHAR", "generator version"),
                ("master_seed", "BIGINT", "master seed of the generated stream"),
                ("sample_index", "BIGINT", "index in the generated stream"),
                ("sample_seed", "BIGINT", "per-sample seed derived by hashing"),
                ("parent_id", "VARCHAR", "for negatives: id of the clean task it was perturbed from"),
                ("perturbation", "VARCHAR", "for negatives: the perturbation kind"),
                ("file_path", "VARCHAR", "for files: the path the task was read from"),
                ("file_sha256", "VARCHAR", "for files: sha256 of the file content"),
                ("line_number", "BIGINT", "for files: 1-based line number"),
                ("content_hash", "VARCHAR", "sha256 of the record's content (recomputed, not trusted)"),
                ("text", "VARCHAR", "the text that gets embedded"),
                ("record", "JSON", "the whole record"),
                ("locations", "VARCHAR[]", "every file:line the same task (same id and content hash) was read from, "
                 "first one first; empty for generated-only tasks"),
            ]
            + PROVENANCE,
        ),
        Table(
            "ingest_rejections",
            "Lines of inbox files that could not be ingested, with file, line, field and reason.",
            [
                ("family", "VARCHAR", "family of the inbox folder"),
                ("file_path", "VARCHAR", "file the line came from"),
                ("file_sha256", "VARCHAR", "sha256 of the file content"),
                ("line_number", "BIGINT", "1-based line number"),
                ("field", "VARCHAR", "offending field, when one is to blame"),
                ("reason", "VARCHAR", "why the line was rejected"),
            ]
            + PROVENANCE,
        ),
        Table(
            "curated_tasks",
            "The verdict and filter decision for every raw task: kept or dropped, and why.",
            [
                ("family", "VARCHAR", "task family"),
                ("task_id", "VARCHAR", "raw_tasks.task_id"),
                ("content_hash", "VARCHAR", "raw_tasks.content_hash"),
                ("kept", "BOOLEAN", "whether the task goes on to embedding and selection"),
                ("reason", "VARCHAR", "kept, failed_verification, too_easy, loop, contradiction, duplicate_exact, "
                 "duplicate_structural, no_ground_truth, malformed (a filter raised on the task)"),
                ("detail", "VARCHAR", "violated checks, the id of the task this one duplicates, or the exception"),
                ("checks", "VARCHAR[]", "names of the verifier checks that failed"),
                ("tags", "VARCHAR[]", "reflection, error_recovery, unverified"),
                ("verified", "BOOLEAN", "the independent verifier passed the task"),
                ("metrics", "JSON", "verifier metrics (f1_chain, f1_graph, ...)"),
            ]
            + PROVENANCE,
        ),
        Table(
            "task_embeddings",
            "One embedding per kept task (L2-normalised), with the model that made it.",
            [
                ("family", "VARCHAR", "task family"),
                ("task_id", "VARCHAR", "curated_tasks.task_id (kept)"),
                ("text_hash", "VARCHAR", "sha256 of the embedded text: the cache key with the model"),
                ("model_name", "VARCHAR", "embedding model"),
                ("model_revision", "VARCHAR", "hash of the model weights"),
                ("embedding_scheme", "VARCHAR", "how the text became one vector: mean of overlapping windows (size, overlap), engine and precision, e.g. mean-of-windows/254/32/openvino-bf16"),
                ("from_cache", "BOOLEAN", "reused from embedding_cache rather than computed in this run"),
                ("embedding", "FLOAT[384]", "the unit vector"),
            ]
            + PROVENANCE,
        ),
        Table(
            "embedding_cache",
            "Every vector ever computed, by (text hash, model, revision, scheme): reruns embed only what is new.",
            [
                ("text_hash", "VARCHAR", "sha256 of the embedded text"),
                ("model_name", "VARCHAR", "embedding model"),
                ("model_revision", "VARCHAR", "hash of the model weights"),
                ("embedding_scheme", "VARCHAR", "how the text became one vector: part of the key"),
                ("embedding", "FLOAT[384]", "the unit vector"),
                ("run_id", "VARCHAR", "run that computed it"),
            ],
            partitioned=False,
        ),
        Table(
            "stage_inputs",
            "What each stage's current rows were made from: a run whose stage inputs are the same reuses them.",
            [
                ("stage", "VARCHAR", "the stage (asset) that wrote the rows"),
                ("family", "VARCHAR", "task family ('' for a stage over every family)"),
                ("fingerprint", "VARCHAR", "sha256 of the stage's code version, parameters and inputs (upstream data "
                 "versions, inbox files)"),
                ("data_version", "VARCHAR", "data version of the rows written with that fingerprint"),
                ("checks", "JSON", "the stage's asset check results on those rows"),
                ("run_id", "VARCHAR", "run that wrote the rows"),
            ],
            partitioned=False,
        ),
        Table(
            "density_factors",
            "sigma for every kept task, from its K nearest neighbours among the family's kept tasks.",
            [
                ("family", "VARCHAR", "task family"),
                ("task_id", "VARCHAR", "task_embeddings.task_id"),
                ("sigma", "DOUBLE", "1 / sum of cosine distances to the K nearest distinct neighbours"),
                ("k", "INTEGER", "K"),
                ("neighbour_ids", "VARCHAR[]", "task ids of the K nearest neighbours"),
                ("neighbour_distances", "FLOAT[]", "their cosine distances"),
                ("model_revision", "VARCHAR", "embedding model revision the distances come from"),
            ]
            + PROVENANCE,
        ),
        Table(
            "family_selection",
            "NovelSelect per family: pick order, novelty at pick, and who contributed most.",
            [
                ("family", "VARCHAR", "task family"),
                ("task_id", "VARCHAR", "density_factors.task_id"),
                ("pick_step", "INTEGER", "1-based step at which the task was picked"),
                ("novelty", "DOUBLE", "v(x | S) when picked (0 for the first, seeded random pick)"),
                ("quality_weight", "DOUBLE", "weight in (0, 1] from the task's quality signals (1 without quality weighting)"),
                ("weighted_novelty", "DOUBLE", "quality_weight * novelty: what the pick won with"),
                ("contributor_ids", "VARCHAR[]", "already-selected tasks with the largest terms in that score"),
                ("contributions", "DOUBLE[]", "their terms"),
                ("variant", "VARCHAR", "magicagent (MagicAgent Eq. 1) or released (the authors' code)"),
                ("budget", "INTEGER", "selection size asked for (capped at the pool)"),
                ("k", "INTEGER", "K"),
                ("kappa1", "DOUBLE", "proximity power"),
                ("kappa2", "DOUBLE", "density power"),
                ("seed", "BIGINT", "seed of the first pick"),
            ]
            + PROVENANCE,
        ),
        Table(
            "selection_exclusions",
            "Kept tasks the family selection may not pick (outlier guard), and why.",
            [
                ("family", "VARCHAR", "task family"),
                ("task_id", "VARCHAR", "density_factors.task_id"),
                ("sigma", "DOUBLE", "its density factor"),
                ("reason", "VARCHAR", "why it was excluded"),
            ]
            + PROVENANCE,
        ),
        Table(
            "fusion_exclusions",
            "Family picks the fusion may not pick (outlier guard on the union), and why.",
            [
                ("family", "VARCHAR", "task family"),
                ("task_id", "VARCHAR", "family_selection.task_id"),
                ("sigma", "DOUBLE", "its density factor on the union"),
                ("reason", "VARCHAR", "why it was excluded"),
            ]
            + PROVENANCE,
            partitioned=False,
        ),
        Table(
            "fused_training_set",
            "NovelSelect over the union of the family selections, density recomputed on the union.",
            [
                ("task_id", "VARCHAR", "family_selection.task_id"),
                ("family", "VARCHAR", "task family"),
                ("fusion_step", "INTEGER", "1-based step at which the task was picked in the fusion"),
                ("novelty", "DOUBLE", "v(x | S) in the fusion when picked"),
                ("quality_weight", "DOUBLE", "weight in (0, 1] from the task's quality signals (1 without quality weighting)"),
                ("weighted_novelty", "DOUBLE", "quality_weight * novelty: what the pick won with"),
                ("contributor_ids", "VARCHAR[]", "already-fused tasks with the largest terms"),
                ("contributions", "DOUBLE[]", "their terms"),
                ("sigma", "DOUBLE", "density factor on the union"),
                ("family_pick_step", "INTEGER", "family_selection.pick_step"),
                ("variant", "VARCHAR", "NovelSelect variant"),
                ("seed", "BIGINT", "seed of the first pick"),
                ("exported", "BOOLEAN", "written to the training files (the example passed validation)"),
                ("export_error", "VARCHAR", "why the example was not exported, when it was not"),
            ]
            + PROVENANCE,
            partitioned=False,
        ),
    ]
}


def connect(path: str | Path = DEFAULT_DATABASE, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    path = Path(path)
    if read_only and not path.exists():
        raise FileNotFoundError(f"no warehouse at {path}: materialize the pipeline first")
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    limit_memory(con)
    if not read_only:
        ensure_schema(con)
    return con


def limit_memory(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create missing tables, and add to existing ones the columns added to TABLES since they were made
    (existing rows get NULL there): a warehouse from an older version keeps working."""
    for table in TABLES.values():
        con.execute(table.ddl())
    present = set(con.execute("SELECT table_name, column_name FROM duckdb_columns() "
                              "WHERE database_name = current_database() AND schema_name = 'main'").fetchall())
    for table in TABLES.values():
        for name, dtype, _ in table.columns:
            if (table.name, name) not in present:
                con.execute(f"ALTER TABLE {table.name} ADD COLUMN {name} {dtype}")


def json_text(value: Any) -> str:
    """How a JSON column stores a value (keys sorted, so equal values are equal text)."""
    return json.dumps(value, sort_keys=True)


def _arrow(table: Table, rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    names = [name for name, _, _ in table.columns]
    data = {}
    for name, dtype, _ in table.columns:
        values = [row.get(name) for row in rows]
        if dtype == "JSON":
            values = [None if v is None else json_text(v) for v in values]
        data[name] = values
    return pa.table({n: data[n] for n in names}) if rows else pa.table({n: pa.array([], pa.null()) for n in names})


def replace_rows(
    con: duckdb.DuckDBPyConnection,
    table_name: str,
    rows: Sequence[Mapping[str, Any]] | pa.Table,
    *,
    family: str | None = None,
) -> int:
    """Replace a family's rows (or the whole table when family is None) in one transaction: see
    :func:`replace_in_batches`, of which this is the one-batch case."""
    return replace_in_batches(con, table_name, [rows], family=family)


def replace_in_batches(
    con: duckdb.DuckDBPyConnection,
    table_name: str,
    batches: Iterable[Sequence[Mapping[str, Any]] | pa.Table],
    *,
    family: str | None = None,
    finish: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> int:
    """Replace a family's rows (or the whole table when family is None) with the batches, atomically:
    readers see the old rows or the new ones, never a mix. ``finish`` runs in the swap (e.g. an UPDATE
    or INSERT on the new rows). A batch is row dicts or an Arrow table with the table's column names.

    The batches go to a staging table, each batch committed as it comes, then one short transaction
    deletes the old rows, moves the staged ones in and drops the staging table. One transaction over
    every batch would hold all the family's uncommitted rows in memory (DuckDB keeps less than a row
    group of uncommitted rows there whatever its memory limit: 4.5 GiB at 100k tasks).

    A failure anywhere, in DuckDB (disk full, conversion...) or in the code making the batches, leaves
    the previous rows; a DuckDB failure is raised as WarehouseWriteFailed naming the table, the family
    and the real cause. A failed COMMIT has already ended the transaction, so it is not rolled back again
    (that would raise "no transaction is active" in place of the cause)."""
    table = TABLES[table_name]
    if table.partitioned and family is None:
        raise ValueError(f"{table_name} is written per family: pass family=")
    staging = _staging_name(table_name, family)
    written = 0
    swapping = committing = False
    try:
        con.execute(f"CREATE OR REPLACE TABLE {staging} AS FROM {table_name} LIMIT 0")
        for batch in batches:
            arrow = batch if isinstance(batch, pa.Table) else _arrow(table, batch)
            if arrow.num_rows:
                con.register("incoming_rows", arrow)
                con.execute(f"INSERT INTO {staging} BY NAME SELECT * FROM incoming_rows")
                con.unregister("incoming_rows")
                written += arrow.num_rows
        con.execute("BEGIN TRANSACTION")
        swapping = True
        if family is None:
            con.execute(f"DELETE FROM {table_name}")
        else:
            con.execute(f"DELETE FROM {table_name} WHERE family = ?", [family])
        con.execute(f"INSERT INTO {table_name} SELECT * FROM {staging}")
        if finish is not None:
            finish(con)
        con.execute(f"DROP TABLE {staging}")
        committing = True
        con.execute("COMMIT")
    except BaseException as exc:
        if swapping and not committing:
            _rollback(con, exc)
        _drop(con, staging, exc)
        if isinstance(exc, duckdb.Error):
            raise WarehouseWriteFailed(table_name, family, exc) from exc
        raise
    return written


def _staging_name(table_name: str, family: str | None) -> str:
    """Where replace_in_batches stages a family's new rows: one per table and family, so a staging table
    left by a killed run is replaced by the next write of the same rows."""
    suffix = "".join(c if c.isalnum() else "_" for c in family) if family is not None else ""
    return f'"staging__{table_name}__{suffix}"'


def _drop(con: duckdb.DuckDBPyConnection, staging: str, failure: BaseException) -> None:
    """Drop the staging table after a failure, best effort: a drop that fails too (disk full, invalidated
    database) is noted on the failure; the next write of the same rows replaces the table."""
    try:
        con.execute(f"DROP TABLE IF EXISTS {staging}")
    except duckdb.Error as exc:
        failure.add_note(f"the staging table {staging} could not be dropped: {exc}")


def _rollback(con: duckdb.DuckDBPyConnection, failure: BaseException) -> None:
    """Roll back after failure; a rollback that fails too (e.g. the database was invalidated) is noted
    on the failure, never raised in its place."""
    try:
        con.execute("ROLLBACK")
    except duckdb.Error as exc:
        failure.add_note(f"the rollback failed too: {exc}")


def add_cached_embeddings(con: duckdb.DuckDBPyConnection, rows: Iterable[Mapping[str, Any]]) -> None:
    """Add vectors the cache does not hold yet; one per key, also when the rows repeat a key (the cache
    must stay keyed: task_embeddings joins it)."""
    rows = list(rows)
    if not rows:
        return
    arrow = _arrow(TABLES["embedding_cache"], rows)
    con.register("incoming_vectors", arrow)
    con.execute(
        """INSERT INTO embedding_cache BY NAME SELECT * FROM incoming_vectors AS i
           WHERE NOT EXISTS (SELECT 1 FROM embedding_cache c WHERE c.text_hash = i.text_hash
                             AND c.model_name = i.model_name AND c.model_revision = i.model_revision
                             AND c.embedding_scheme IS NOT DISTINCT FROM i.embedding_scheme)
           QUALIFY row_number() OVER (PARTITION BY text_hash, model_name, model_revision, embedding_scheme) = 1"""
    )
    con.unregister("incoming_vectors")


def query(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    """Rows as dicts (small results: lineage, checks, summaries)."""
    cursor = con.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def tables_markdown() -> str:
    """The README's table reference, generated from TABLES so the two cannot drift apart."""
    parts = []
    for table in TABLES.values():
        scope = "rows replaced per family" if table.partitioned else "one table, replaced as a whole"
        if table.name == "embedding_cache":
            scope = "append-only, keyed by (text_hash, model_name, model_revision, embedding_scheme)"
        if table.name == "stage_inputs":
            scope = "one row per (stage, family), replaced when the stage writes its rows"
        lines = [f"### `{table.name}`", "", f"{table.doc} *{scope.capitalize()}.*", "", "| column | type | meaning |", "|---|---|---|"]
        lines += [f"| `{name}` | {dtype} | {doc} |" for name, dtype, doc in table.columns]
        parts.append("\n".join(lines))
    return "\n\n".join(parts)
