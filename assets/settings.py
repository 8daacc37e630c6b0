"""The persisted pipeline settings as a Dagster resource, and launchpad configs generated from them.

Every run reads ``planfusion.yaml`` when it starts (not when the code location loaded), so sensor runs,
automation, ``planfusion up`` and the launchpad all use what the user last saved. A launchpad config holds
the same fields, every one optional: a value given there overrides the file for that run only, and the
stage's ``params`` (lineage) records the effective values and which of them the run overrode.
"""

from __future__ import annotations

import json
from typing import Any, Optional

import dagster as dg
from pydantic import Field, create_model

from planfusion.settings import SECTIONS, PipelineSettings, Section, SettingsError, load_settings, with_overrides


# The stage (op) whose launchpad config overrides each settings section.
STAGE_SECTIONS = {"raw_tasks": "generation", "curated_tasks": "curation", "task_embeddings": "embedding",
                  "density_factors": "density",
                  "family_selection": "selection", "fused_training_set": "fusion"}


class PipelineSettingsResource(dg.ConfigurableResource):
    """Where the settings live: planfusion.yaml (PLANFUSION_CONFIG); PLANFUSION_<SECTION>_<FIELD> overrides."""

    config_file: str

    def load(self) -> PipelineSettings:
        try:
            return load_settings(self.config_file)
        except SettingsError as exc:
            raise dg.Failure(f"pipeline settings: {exc}", allow_retries=False) from None

    def effective(self, context: dg.AssetExecutionContext, section: str,
                  config: dg.Config) -> tuple[Section, dict[str, Any]]:
        """The section's values for this run and the run's explicit overrides. The run's configs of every
        stage are checked here, at each stage's start, so a bad value fails the run before any write."""
        settings = self.load()
        try:
            for op, ops_config in (context.run.run_config.get("ops") or {}).items():
                if op in STAGE_SECTIONS:
                    _section_overrides(settings, STAGE_SECTIONS[op], (ops_config or {}).get("config") or {})
            overrides = {k: v for k, v in config.model_dump(mode="json").items() if v is not None}
            return _section_overrides(settings, section, overrides)
        except SettingsError as exc:
            raise dg.Failure(str(exc), allow_retries=False) from None

    def lineage(self, section: Section, overrides: dict[str, Any], **extra: Any) -> dict[str, Any]:
        """The params a stage's rows record: effective values, overrides, and the settings file."""
        return section.model_dump(mode="json") | extra | {"overrides": overrides, "settings_file": self.config_file}


def _section_overrides(settings: PipelineSettings, section: str,
                       overrides: dict[str, Any]) -> tuple[Section, dict[str, Any]]:
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if "params_json" in overrides:
        overrides["params"] = _json_object(overrides.pop("params_json"))
    return with_overrides(settings, section, overrides), overrides


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError as exc:
        raise SettingsError(f"params_json is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise SettingsError(f"params_json must be a JSON object, got {type(value).__name__}")
    return value


def launchpad_config(section: str) -> type[dg.Config]:
    """A dg.Config with the section's fields, all optional (unset: the persisted value), same bounds and
    descriptions, so the launchpad validates and documents them."""
    model = SECTIONS[section]
    fields: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if name == "params":  # generator knobs: free-form JSON text in the launchpad
            annotation, name = str, "params_json"
        limits = {k: getattr(m, k) for m in field.metadata for k in ("ge", "le", "gt", "lt") if hasattr(m, k)}
        fields[name] = (Optional[annotation], Field(default=None, description=f"{field.description} "
                                                    f"(unset: {section}.{name.removesuffix('_json')} of planfusion.yaml)",
                                                    **limits))
    return create_model(f"{section.capitalize()}Config", __base__=dg.Config, __doc__=model.__doc__, **fields)
