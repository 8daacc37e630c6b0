"""Shared plumbing for assets that read and write the DuckDB warehouse: connections that retry only what
can succeed on retry, provenance columns, and the table metadata the Dagster UI shows."""

from __future__ import annotations

import json
from contextlib import contextmanager
from typing import Any, Iterator, Sequence

import dagster as dg
import duckdb
import pyarrow as pa
from dagster_duckdb import DuckDBResource

from planfusion import warehouse
from planfusion.warehouse_access import open_warehouse
from planfusion.warehouse_errors import WarehouseError, is_transient

# Lock or I/O contention on the DuckDB file clears up when the other writer finishes: retried.
# Everything else (bad config, bad data, unwritable folder, full disk) fails at once with its message.
TRANSIENT_RETRIES = 3
TRANSIENT_WAIT_SECONDS = 10
PROGRESS_EVERY = 5000  # rows between two progress lines of a stage that streams


def progress_due(done: int, added: int) -> bool:
    """Whether the last ``added`` rows, bringing a streaming stage to ``done``, crossed a PROGRESS_EVERY line."""
    return done // PROGRESS_EVERY > (done - added) // PROGRESS_EVERY


def _retry_or_fail(exc: BaseException) -> Exception:
    if is_transient(exc):
        return dg.RetryRequested(max_retries=TRANSIENT_RETRIES, seconds_to_wait=TRANSIENT_WAIT_SECONDS)
    return dg.Failure(description=str(exc), allow_retries=False)


@contextmanager
def connection(duckdb_resource: DuckDBResource) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection with every table in place; the warehouse folder is created on first use.
    An unwritable folder or a full disk fails the step at once with the path and the OS error; another
    writer's lock is waited for, then the step is retried a few times; nothing else is retried."""
    try:
        con = open_warehouse(duckdb_resource.database)
    except (WarehouseError, duckdb.Error) as exc:
        raise _retry_or_fail(exc) from exc
    with con:
        try:
            yield con
        except (WarehouseError, duckdb.Error) as exc:
            raise _retry_or_fail(exc) from exc


def provenance(context: dg.AssetExecutionContext, params: dict[str, Any]) -> dict[str, Any]:
    """The columns every row carries: the run, the code version of the stage that wrote it, its params."""
    code_version = context.assets_def.code_versions_by_key[context.asset_key]
    return {"run_id": context.run.run_id, "code_version": code_version, "params": params}


def with_provenance(rows: Sequence[dict[str, Any]], family: str | None, stamp: dict[str, Any]) -> list[dict[str, Any]]:
    extra = dict(stamp, **({"family": family} if family else {}))
    return [dict(row, **extra) for row in rows]


def arrow_with_provenance(table: pa.Table, family: str | None, stamp: dict[str, Any], **constants: Any) -> pa.Table:
    """with_provenance for an Arrow table: the stamp (params as JSON text), the family and constants as
    columns of one value each."""
    values = dict(constants, run_id=stamp["run_id"], code_version=stamp["code_version"],
                  params=warehouse.json_text(stamp["params"]), **({"family": family} if family else {}))
    for name, value in values.items():
        table = table.append_column(name, pa.array([value] * table.num_rows, pa.string()))
    return table


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
