"""The card, the HTML page, the terminal table and the flat dict carry what the report computed."""

import base64
import re

import numpy as np
import pytest

from planfusion.novelsum import embedding_density, novel_select
from planfusion.novelsum.synthetic import clustered_embeddings
from planfusion.report import Categories, flat_metrics, html_page, markdown_card, render_plots, selection_report, text_table
from planfusion.report.card import interpretation

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def report():
    x = clustered_embeddings(150, 32, random_state=4)
    density = embedding_density(x, 10)
    selection = novel_select(x, 30, density=density)
    rng = np.random.default_rng(0)
    categories = Categories(family=rng.choice(["decomposition", "scheduling"], 150),
                            subtype=rng.choice(["a", "b", "c"], 150), level=rng.integers(1, 4, 150))
    return selection_report(x, density.sigma, selection.order, novelty=selection.scores, categories=categories,
                            name="demo")


@pytest.fixture(scope="module")
def images(report):
    return render_plots(report)


def test_card_has_the_reading_the_table_and_four_images(report, images):
    card = markdown_card(report, images)
    line = interpretation(report)
    assert f"**{line}**" in card
    assert re.match(r"NovelSum [+−]\d+\.\d% vs random \((better|worse)\); Vendi score [+−]", line)
    assert "coverage mean" in line and "highest Vendi:" in line
    assert "| metric | NovelSelect | random (mean ± sd, 5 seeds) | k-center | facility location |" in card
    assert "| NovelSum |" in card and "| Vendi score |" in card
    embedded = re.findall(r"!\[[^\]]+\]\(data:image/png;base64,([A-Za-z0-9+/=]+)\)", card)
    assert len(embedded) >= 4
    assert all(base64.b64decode(data).startswith(PNG) for data in embedded)


def test_images_are_small_pngs(images):
    assert set(images) == {"projection", "novelty", "shares", "budget"}
    assert all(image.startswith(PNG) and len(image) < 100_000 for image in images.values())


def test_html_page_is_written_standalone(report, images, tmp_path):
    page = tmp_path / "report.html"
    page.write_text(html_page([report], [images]), encoding="utf-8")
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "<h2>demo</h2>" in text and "<table>" in text
    assert text.count('src="data:image/png;base64,') == 4
    assert "http" not in text  # nothing to fetch


def test_flat_metrics_are_plain_numbers(report):
    flat = flat_metrics(report)
    for key in ("report/vendi", "report/vendi_random_mean", "report/vendi_random_sd", "report/vendi_k_center",
                "report/coverage_mean_facility_location", "report/novelsum", "report/cell_coverage",
                "report/family_share/decomposition", "report/family_share_pool/scheduling", "report/budget"):
        assert key in flat
    assert all(type(v) in (int, float) for v in flat.values())
    assert flat["report/vendi"] == report.at_budget("novelselect", "vendi")
    assert flat["report/budget"] == 30


def test_text_table_lists_every_metric(report):
    table = text_table(report)
    assert table.splitlines()[0].startswith("== demo: pool 150, B = 30")
    for label in ("NovelSum", "Vendi score", "coverage p95", "near-duplicate pairs", "cell coverage"):
        assert label in table
    assert table.splitlines()[-1] == interpretation(report)


def test_card_without_labels_or_novelty_leaves_those_out():
    x = clustered_embeddings(60, 16, random_state=1)
    report = selection_report(x, embedding_density(x, 5).sigma, np.arange(12))
    assert "cell_coverage" not in report.metrics and "family_share_tv" not in report.metrics
    assert set(render_plots(report)) == {"projection", "budget"}
