"""planfusion.yaml: typed and bounded, env overrides, clear errors naming file and field, and the
`planfusion config` command that persists validated values."""

from pathlib import Path

import pytest
import yaml

from planfusion.cli import main
from planfusion.settings import (
    FusionSettings, PipelineSettings, SelectionSettings, SettingsError, load_settings, with_overrides,
)


def test_missing_file_gives_the_defaults_and_the_committed_file_equals_them() -> None:
    assert load_settings("/nonexistent/planfusion.yaml", environ={}) == PipelineSettings()
    committed = Path(__file__).resolve().parents[1] / "planfusion.yaml"
    assert load_settings(committed, environ={}) == PipelineSettings()


def test_environment_overrides_one_field(tmp_path: Path) -> None:
    path = tmp_path / "planfusion.yaml"
    path.write_text(yaml.safe_dump({"selection": {"budget": 7}}))
    settings = load_settings(path, environ={"PLANFUSION_SELECTION_VARIANT": "released", "PLANFUSION_DB": "x"})
    assert (settings.selection.budget, settings.selection.variant) == (7, "released")


@pytest.mark.parametrize("values, field", [
    ({"selection": {"budget": 0}}, "selection.budget"),
    ({"fusion": {"variant": "foo"}}, "fusion.variant"),
    ({"density": {"k": "ten"}}, "density.k"),
    ({"selection": {"kappa2": -0.5}}, "selection.kappa2"),
    ({"selection": {"bugdet": 3}}, "selection.bugdet"),
    ({"embedding": {"precision": "int8"}}, "embedding.precision"),
    ({"embedding": {"batch_size": 0}}, "embedding.batch_size"),
])
def test_bad_values_name_the_file_and_the_field(tmp_path: Path, values: dict, field: str) -> None:
    path = tmp_path / "planfusion.yaml"
    path.write_text(yaml.safe_dump(values))
    with pytest.raises(SettingsError, match=rf"{path}: {field}: "):
        load_settings(path, environ={})


def test_run_overrides_are_validated_like_the_file() -> None:
    assert with_overrides(PipelineSettings(), "selection", {"budget": 3, "seed": None}).budget == 3
    with pytest.raises(SettingsError, match="budget"):
        with_overrides(PipelineSettings(), "selection", {"budget": -1})


def test_config_command_persists_validated_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "planfusion.yaml"
    monkeypatch.setenv("PLANFUSION_CONFIG", str(path))
    assert main(["config", "generation.n=30", "selection.budget=10"]) == 0
    assert load_settings(path, environ={}).generation.n == 30
    assert "budget: 10" in capsys.readouterr().out
    before = path.read_text()
    assert main(["config", "selection.variant=foo"]) == 2
    assert "selection.variant" in capsys.readouterr().err and path.read_text() == before


def test_mix_settings_defaults_are_the_measured_ones_and_are_checked():
    """README, "Mix controls": the fusion keeps the families' shares of the union; no guard, no weights."""
    fusion, selection = FusionSettings(), SelectionSettings()
    assert (fusion.shares, fusion.family_shares, fusion.family_floors) == ("pool", {}, {})
    assert fusion.exclude_sparsest == selection.exclude_sparsest == 0.0
    assert not fusion.quality_weighting and not selection.quality_weighting
    explicit = with_overrides(PipelineSettings(), "fusion", {"shares": "explicit", "family_shares": {
        "decomposition": 1, "scheduling": 1, "tool_execution": 2}})
    assert explicit.shares_argument() == {"decomposition": 1.0, "scheduling": 1.0, "tool_execution": 2.0}
    assert fusion.shares_argument() == "pool"
    assert with_overrides(PipelineSettings(), "fusion", {"shares": "free"}).shares_argument() == "free"  # Eq. 1
    bad_values = [
        ({"shares": "explicit"}, "shares=explicit needs family_shares"),
        ({"family_shares": {"cooking": 1}}, r"family_shares: .*unknown families \['cooking'\]"),
        ({"family_floors": {"scheduling": -2}}, r"family_floors: .*must be >= 0"),
        ({"exclude_sparsest": 0.5}, "exclude_sparsest"),
        ({"shares": "fair"}, "shares"),
    ]
    for bad, message in bad_values:
        with pytest.raises(SettingsError, match=message):
            with_overrides(PipelineSettings(), "fusion", bad)


def test_mix_settings_work_as_launchpad_config() -> None:
    """Dagster config types: an Enum-based str, dicts of str to float / int, a bounded float."""
    from assets.settings import launchpad_config

    fusion_config = launchpad_config("fusion")
    fusion_config.to_config_schema()
    config = fusion_config(shares="pool", family_floors={"scheduling": 3}, exclude_sparsest=0.05)
    overrides = {k: v for k, v in config.model_dump(mode="json").items() if v is not None}
    fusion = with_overrides(PipelineSettings(), "fusion", overrides)
    assert (fusion.shares, fusion.family_floors, fusion.exclude_sparsest) == ("pool", {"scheduling": 3}, 0.05)
    with pytest.raises(ValueError, match="exclude_sparsest"):
        launchpad_config("selection")(exclude_sparsest=0.7)
