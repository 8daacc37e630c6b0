"""planfusion.yaml: typed and bounded, env overrides, clear errors naming file and field, and the
`planfusion config` command that persists validated values."""

from pathlib import Path

import pytest
import yaml

from planfusion.cli import main
from planfusion.settings import PipelineSettings, SettingsError, load_settings, with_overrides


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
