"""Shared plumbing for assets that read and write the DuckDB warehouse: connections with the schema in
place, provenance columns, and the table metadata the Dagster UI shows."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from planfusion import __version__, warehouse

# Every asset that opens the DuckDB file runs in this pool (limit 1 in dagster.yaml): one writer.
POOL = "duckdb"
RETRY = dg.RetryPolicy(max_retries=3, delay=5, backoff=dg.Backoff.EXPONENTIAL)


@contextmanager
def connection(duckdb_resource: DuckDBResource) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection with every table in place; the warehouse folder is created on first use."""
    if duckdb_resource.database != ":memory:":
        Path(duckdb_resource.database).parent.mkdir(parents=True, exist_ok=True)
    with duckdb_resource.get_connection() as con:
        warehouse.ensure_schema(con)
        yield con


def provenance(context: dg.AssetExecutionContext, code_version: str, params: dict[str, Any]) -> dict[str, Any]:
    return {"run_id": context.run.run_id, "code_version": f"planfusion {__version__} / {code_version}", "params": params}


def with_provenance(rows: Sequence[dict[str, Any]], family: str | None, stamp: dict[str, Any]) -> list[dict[str, Any]]:
    extra = dict(stamp, **({"family": family} if family else {}))
    return [dict(row, **extra) for row in rows]


def column_schema(table: str) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[dg.TableColumn(name, dtype, description=doc) for name, dtype, doc in warehouse.TABLES[table].columns]
    )


def preview(rows: Sequence[dict[str, Any]], columns: Sequence[str], limit: int = 10) -> dg.MetadataValue:
    """A small markdown table of the first rows (long values cut) for the UI."""

    def cell(value: Any) -> str:
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        text = text.replace("|", "\\|").replace("\n", " ")
        return text if len(text) <= 60 else text[:57] + "..."

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row.get(c)) for c in columns) + " |" for row in rows[:limit]]
    return dg.MetadataValue.md("\n".join(lines))


def table_metadata(table: str, rows_written: int, total_rows: int, extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "dagster/table_name": f"planfusion.{table}",
        "dagster/column_schema": column_schema(table),
        "dagster/partition_row_count": rows_written,
        "dagster/row_count": total_rows,
        **extra,
    }


def count_rows(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def family_rows(con: duckdb.DuckDBPyConnection, sql: str, family: str) -> list[dict[str, Any]]:
    return warehouse.query(con, sql, [family])
