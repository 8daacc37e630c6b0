"""The pipeline's parameters, in one persisted file that every way of running reads.

``planfusion up``, launchpad materializations, sensor runs and automation all start from
``planfusion.yaml`` (``$PLANFUSION_CONFIG``, else ``planfusion.yaml`` in the working directory; built-in
defaults when it does not exist). Environment variables ``PLANFUSION_<SECTION>_<FIELD>`` override single
fields (``PLANFUSION_SELECTION_BUDGET=10``). A launchpad config is an explicit per-run override on top of
these, and lineage records both. Every value is typed and bounded, and a bad file fails before any write
with the file and the field in the message.
"""

from __future__ import annotations

import argparse
import enum
import os
import sys
from pathlib import Path
from typing import Any, Mapping

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from planfusion import encoders
from planfusion.tasks.record import FAMILIES

CONFIG_VARIABLE = "PLANFUSION_CONFIG"
DEFAULT_CONFIG = "planfusion.yaml"


class Variant(str, enum.Enum):
    """NovelSelect's scoring: MagicAgent Eq. 1, or the authors' released code."""

    magicagent = "magicagent"
    released = "released"


# The embedding engine's choices are planfusion.encoders' ("auto": OpenVINO when installed, else torch; bf16
# where the CPU multiplies it natively, else fp32).
EmbeddingBackend = enum.Enum("EmbeddingBackend", {name: name for name in encoders.BACKENDS}, type=str, module=__name__)
EmbeddingPrecision = enum.Enum("EmbeddingPrecision", {name: name for name in encoders.PRECISIONS}, type=str,
                               module=__name__)


class ShareMode(str, enum.Enum):
    """How the fused set divides its budget among the families."""

    free = "free"  # Eq. 1 over the union: the mix is whatever NovelSelect picks
    pool = "pool"  # each family's share of the union (the default: README, "Mix controls")
    equal = "equal"
    explicit = "explicit"  # fusion.family_shares


EXCLUDE_SPARSEST = "exclude the pool's sparsest share (lowest sigma) from selection, e.g. 0.05; 0: no outlier guard"
QUALITY_WEIGHTING = ("multiply each task's novelty by its quality weight (unverified 0.5, no reflection 0.9, "
                     "difficulty level 1 0.8, level 2 0.9; planfusion.stages.mix.quality_weights)")


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=True, validate_default=True)


class GenerationSettings(Section):
    """raw_tasks: the family's seeded generator (inbox files are always read as well)."""

    n: int = Field(500, ge=0, description="clean tasks to generate per family (0: inbox files only)")
    seed: int = Field(0, ge=0, description="master seed of the generated stream")
    params: dict[str, Any] = Field(default_factory=dict, description='generator knobs, e.g. {"levels": [2, 4]}')
    negatives_every: int = Field(
        10, ge=0, description="one seeded negative (perturbed copy) per that many generated tasks; 0 for none")


class CurationSettings(Section):
    """curated_tasks: the filters' policy."""

    allow_unverified: bool = Field(
        False, description="admit records without ground truth, tagged unverified (default: reject them)")


class EmbeddingSettings(Section):
    """task_embeddings: the engine; with the model revision it keys embedding_cache, so vectors of another
    engine or precision are never served as these."""

    backend: EmbeddingBackend = Field(EmbeddingBackend.auto,
                                      description="auto (OpenVINO when installed, else torch), openvino or torch")
    precision: EmbeddingPrecision = Field(
        EmbeddingPrecision.auto, description="auto (bf16 where the CPU multiplies it natively, else fp32), fp32 "
        "(the same picks on every CPU, about half bf16's speed) or bf16")
    batch_size: int | None = Field(None, ge=1, description="windows per forward pass (sorted by length first); "
                                                           "empty: the engine's fastest measured, 16 openvino, 64 torch")


class DensitySettings(Section):
    """density_factors: sigma from the K nearest neighbours (family selection uses these factors)."""

    k: int = Field(10, ge=1, description="K nearest distinct neighbours per task; must be below the pool size")


class NovelSelectSettings(Section):
    """What NovelSelect needs wherever it runs (a family's selection, the fusion)."""

    kappa1: float = Field(1.0, ge=0, description="proximity power: how fast far-away picks stop counting")
    kappa2: float = Field(0.5, ge=0, description="density power: weight of sparse regions")
    variant: Variant = Field(Variant.magicagent, description="magicagent (MagicAgent Eq. 1) or released (authors' code)")
    seed: int = Field(0, ge=0, description="seed of the first, random pick")
    exclude_sparsest: float = Field(0.0, ge=0, lt=0.5, description=EXCLUDE_SPARSEST)
    quality_weighting: bool = Field(False, description=QUALITY_WEIGHTING)


class SelectionSettings(NovelSelectSettings):
    """family_selection: NovelSelect per family, on the density factors of density_factors."""

    budget: int = Field(100, ge=1, description="tasks to select per family (capped at the family's pool)")


class FusionSettings(NovelSelectSettings):
    """fused_training_set: NovelSelect over the union of the family selections, density recomputed there."""

    budget: int = Field(200, ge=1, description="size of the fused training set (capped at the union)")
    k: int = Field(10, ge=1, description="K for the density recomputed on the union; must be below its size")
    shares: ShareMode = Field(
        ShareMode.pool, description="family shares of the fused set: pool (each family's share of the union, the "
        "default), free (Eq. 1 over the union, the paper's), equal, or explicit (family_shares)")
    family_shares: dict[str, float] = Field(
        default_factory=dict, description="shares=explicit: family -> share (normalised; every family in the union "
        "needs one, 0 leaves it out)")
    family_floors: dict[str, int] = Field(
        default_factory=dict, description="family -> minimum picks in the fused set (capped at what the family has)")

    @field_validator("family_shares", "family_floors")
    @classmethod
    def _known_families(cls, value: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(value) - set(FAMILIES))
        if unknown:
            raise ValueError(f"unknown families {unknown}; expected some of {list(FAMILIES)}")
        negative = {f: v for f, v in value.items() if not v >= 0}
        if negative:
            raise ValueError(f"must be >= 0, got {negative}")
        return value

    @model_validator(mode="after")
    def _explicit_needs_shares(self) -> "FusionSettings":
        if self.shares == ShareMode.explicit and not sum(self.family_shares.values()) > 0:
            raise ValueError("shares=explicit needs family_shares with a positive share")
        return self

    def shares_argument(self) -> str | dict[str, float]:
        """fuse's shares: the mode, or the explicit family shares."""
        return dict(self.family_shares) if self.shares == ShareMode.explicit else self.shares


class PipelineSettings(Section):
    generation: GenerationSettings = Field(default_factory=GenerationSettings)
    curation: CurationSettings = Field(default_factory=CurationSettings)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    density: DensitySettings = Field(default_factory=DensitySettings)
    selection: SelectionSettings = Field(default_factory=SelectionSettings)
    fusion: FusionSettings = Field(default_factory=FusionSettings)


SECTIONS: dict[str, type[Section]] = {
    name: field.annotation for name, field in PipelineSettings.model_fields.items()  # type: ignore[misc]
}


class SettingsError(ValueError):
    """A settings file or override that cannot be used; the message names the file and the field."""


def settings_path() -> Path:
    return Path(os.environ.get(CONFIG_VARIABLE, DEFAULT_CONFIG)).resolve()


def load_settings(path: str | Path | None = None, environ: Mapping[str, str] | None = None) -> PipelineSettings:
    """The persisted settings with the environment's overrides applied, validated."""
    path = Path(path) if path is not None else settings_path()
    values: dict[str, Any] = {}
    if path.is_file():
        try:
            values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise SettingsError(f"{path}: not valid YAML: {exc}") from None
        if not isinstance(values, dict):
            raise SettingsError(f"{path}: expected a mapping of sections, got {type(values).__name__}")
    for section, field, value in _env_overrides(os.environ if environ is None else environ):
        values.setdefault(section, {})
        if isinstance(values[section], dict):
            values[section][field] = value
    return _validated(values, str(path))


def with_overrides(settings: PipelineSettings, section: str, overrides: Mapping[str, Any]) -> Section:
    """One section with a run's explicit overrides (None means: not overridden), validated."""
    given = {k: v for k, v in overrides.items() if v is not None}
    merged = getattr(settings, section).model_dump() | given
    try:
        return SECTIONS[section].model_validate(merged)
    except ValidationError as exc:
        raise SettingsError(_describe(exc, f"run config of {section}")) from None


def save_settings(settings: PipelineSettings, path: str | Path | None = None) -> Path:
    """Write the file atomically (a reader never sees half of it)."""
    path = Path(path) if path is not None else settings_path()
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("# planfusion pipeline settings: read by `planfusion up`, the launchpad, sensors and automation.\n"
                   + yaml.safe_dump(settings.model_dump(mode="json"), sort_keys=False), encoding="utf-8")
    tmp.replace(path)
    return path


def set_values(settings: PipelineSettings, assignments: list[str]) -> PipelineSettings:
    """``["selection.budget=10", "generation.params={levels: [2]}"]`` applied and validated."""
    values = settings.model_dump(mode="json")
    for item in assignments:
        key, sep, text = item.partition("=")
        section, dot, field = key.strip().partition(".")
        if not sep or not dot or section not in SECTIONS:
            raise SettingsError(f"{item!r}: expected SECTION.FIELD=VALUE with SECTION one of {', '.join(SECTIONS)}")
        values[section][field] = yaml.safe_load(text) if text.strip() else None
    return _validated(values, "planfusion config set")


def _env_overrides(environ: Mapping[str, str]) -> list[tuple[str, str, Any]]:
    found = []
    for name, text in environ.items():
        for section, model in SECTIONS.items():
            prefix = f"PLANFUSION_{section.upper()}_"
            if name.startswith(prefix) and name[len(prefix):].lower() in model.model_fields:
                found.append((section, name[len(prefix):].lower(), yaml.safe_load(text) if text else None))
    return found


def _validated(values: dict[str, Any], where: str) -> PipelineSettings:
    try:
        return PipelineSettings.model_validate(values)
    except ValidationError as exc:
        raise SettingsError(_describe(exc, where)) from None


def _describe(exc: ValidationError, where: str) -> str:
    problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']} (got {e.get('input')!r})"
                         for e in exc.errors())
    return f"{where}: {problems}"


def register(subparsers: Any) -> None:
    cmd = subparsers.add_parser("config", help="show or change the persisted pipeline settings (planfusion.yaml)")
    cmd.add_argument("assignments", nargs="*", metavar="SECTION.FIELD=VALUE",
                     help="values to set and persist, e.g. selection.budget=10 generation.n=30")
    cmd.set_defaults(run=_config)


def _config(args: argparse.Namespace) -> int:
    path = settings_path()
    try:
        if args.assignments:  # persist the file's values plus these, never the environment's overrides
            save_settings(set_values(load_settings(path, environ={}), args.assignments), path)
        settings = load_settings(path)
    except SettingsError as exc:
        print(f"planfusion config: error: {exc}", file=sys.stderr)
        return 2
    print(f"# {path}{'' if path.is_file() else ' (not written yet: built-in defaults)'}")
    print(yaml.safe_dump(settings.model_dump(mode="json"), sort_keys=False), end="")
    return 0
