"""A job a user launches from the launchpad with task ids: its run shows, per id, the same chain as
`planfusion lineage` (source, checks, density, picks and their contributors), as markdown and logs, so an
id found in the UI can be explained without a terminal."""

import dagster as dg
from dagster_duckdb import DuckDBResource
from pydantic import Field

from assets.spec import POOL
from planfusion import warehouse_access
from planfusion.lineage import UnknownTask, render, task_lineage


class LineageConfig(dg.Config):
    task_ids: list[str] = Field(description="task ids to explain, e.g. from a chosen_samples table")


@dg.op(pool=POOL)
def explain_tasks(context: dg.OpExecutionContext, config: LineageConfig, duckdb: DuckDBResource) -> None:
    """Reads the warehouse read-only (waiting for a writer) and reports one chain per id."""
    if not config.task_ids:
        raise dg.Failure("give at least one task id", allow_retries=False)
    with warehouse_access.open_warehouse(duckdb.database, read_only=True) as con:
        found, missing = [], []
        for task_id in config.task_ids:
            try:
                found += task_lineage(con, task_id)
            except UnknownTask as exc:
                missing.append(str(exc))
    for chain in found:
        text = render(chain)
        context.log.info(text)
        context.add_output_metadata({chain["task_id"]: dg.MetadataValue.md(f"```\n{text}\n```")})
    for message in missing:
        context.log.warning(message)
    if not found:
        raise dg.Failure("; ".join(missing), allow_retries=False)


@dg.job(description="Explain chosen samples: where each came from, how it was checked and why it was chosen "
                    "(config: task_ids).")
def task_lineage_job() -> None:
    explain_tasks()
