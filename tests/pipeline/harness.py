"""A small pipeline for tests: one warehouse, inbox and settings file, and in-process Dagster runs on them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import yaml
from dagster_duckdb import DuckDBResource

from assets import FAMILY_ASSETS, fused_training_set
from assets.resources import EmbeddingModel, PipelinePaths
from assets.settings import PipelineSettingsResource
from planfusion.tasks import get_family
from planfusion.tasks.record import canonical_json

SETTINGS = {"generation": {"n": 14, "negatives_every": 0}, "density": {"k": 3},
            "selection": {"budget": 5}, "fusion": {"budget": 9, "k": 3}}


class Warehouse:
    """One warehouse, inbox and settings file, and the runs that write them."""

    def __init__(self, root: Path, settings: dict[str, Any] = SETTINGS) -> None:
        self.root, self.db, self.inbox = root, root / "warehouse.duckdb", root / "inbox"
        self.settings_file = root / "planfusion.yaml"
        self.settings_file.write_text(yaml.safe_dump(settings))
        self.instance = dg.DagsterInstance.ephemeral()
        self.resources = self.resources_for(self.db)

    def resources_for(self, db: Path) -> dict[str, Any]:
        return {"duckdb": DuckDBResource(database=str(db)),
                "paths": PipelinePaths(inbox=str(self.inbox), exports=str(self.root / "exports")),
                "embedding_model": EmbeddingModel(),
                "settings": PipelineSettingsResource(config_file=str(self.settings_file))}

    def family(self, family: str, assets=FAMILY_ASSETS, run_config: dict | None = None, tags: dict | None = None,
               resources: dict | None = None) -> dg.ExecuteInProcessResult:
        return dg.materialize(assets, partition_key=family, resources=resources or self.resources,
                              instance=self.instance, run_config=run_config or {}, tags=tags, raise_on_error=False)

    def fusion(self) -> dg.ExecuteInProcessResult:
        return dg.materialize([fused_training_set], resources=self.resources, instance=self.instance,
                              raise_on_error=False)

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple]:
        with duckdb.connect(str(self.db), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    def count(self, table: str, family: str) -> int:
        return self.rows(f"SELECT count(*) FROM {table} WHERE family = ?", [family])[0][0]

    def drop_file(self, family: str, name: str, seed: int, n: int = 4) -> list[str]:
        records = list(get_family(family).generate(n, seed=seed))
        path = self.inbox / family / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(canonical_json(r) + "\n" for r in records))
        return [r["id"] for r in records]


def failure(result: dg.ExecuteInProcessResult) -> str:
    """The messages of every failed step, with the causes Dagster wraps them in."""
    messages = []
    for event in result.all_events:
        if event.is_step_failure:
            error = event.event_specific_data.error
            while error is not None:
                messages.append(error.message.strip())
                error = error.cause
    return "\n".join(messages)
