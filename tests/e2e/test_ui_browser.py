"""The Dagster UI of a real `dagster dev`, in a real browser: Debian's headless Chromium (/usr/bin/chromium)
driven by Playwright. After a backfill of every family and the fusion by automation, the fused set's asset
page must show the selection report card with its figures (markdown metadata with data:image/png images)
and the scheduling partition of family_selection the lineage row of a chosen sample, as the warehouse has it.
Screenshots are kept as test artifacts: under the test's tmp dir and copied to $PYTEST_ARTIFACTS (else
tests/e2e/artifacts/), one folder per test; their paths are printed.

Dagster pages scroll inside a container, so a full-page screenshot shows no more than the window: every
screenshot first scrolls its element into view."""

from __future__ import annotations

import os
import shutil
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import duckdb
import pytest

from planfusion.report.plots import TITLES
from tests.e2e.harness import FAMILIES, ROOT, Server, finished, wait_for

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")  # Debian's package; never `playwright install` (it downloads its own build)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 90_000  # pages take 8-12 s to settle on 2 busy cores; a first markdown dialog loads its renderer
VIEWPORT = {"width": 2000, "height": 1200}  # wide enough for the chosen_samples table next to the metadata keys
# Scroll an element into view inside Dagster's scrolling containers: vertically to `block`; back to the left
# edge (the metadata keys) when the element still fits there, else as far as it needs.
BRING_INTO_VIEW = """(el, block) => {
  el.scrollIntoView({block, inline: 'nearest'});
  const scrolled = [];
  for (let e = el.parentElement; e; e = e.parentElement) {
    if (e.scrollLeft) { scrolled.push([e, e.scrollLeft]); e.scrollLeft = 0; }
  }
  if (el.getBoundingClientRect().right > window.innerWidth) {
    for (const [e, left] of scrolled) e.scrollLeft = left;
  }
}"""


class Shots:
    """Screenshots saved under the tmp dir and copied to the stable artifacts folder, each path printed."""

    def __init__(self, tmp_dir: Path, stable_dir: Path) -> None:
        self.tmp_dir, self.stable_dir = tmp_dir, stable_dir
        tmp_dir.mkdir(parents=True)
        shutil.rmtree(stable_dir, ignore_errors=True)  # no stale screenshot of an earlier run next to these
        stable_dir.mkdir(parents=True)
        self.saved: list[Path] = []

    def take(self, target: Any, name: str) -> Path:
        """Screenshot of a page (its window) or of a locator (that element)."""
        path = self.tmp_dir / f"{len(self.saved) + 1:02d}_{name}.png"
        target.screenshot(path=str(path))
        copy = self.stable_dir / path.name
        shutil.copyfile(path, copy)
        self.saved.append(copy)
        print(f"screenshot: {copy} (also {path})")
        return copy


@pytest.fixture
def shots(tmp_path: Path, request: pytest.FixtureRequest) -> Shots:
    stable = Path(os.environ.get("PYTEST_ARTIFACTS") or ROOT / "tests" / "e2e" / "artifacts") / request.node.name
    return Shots(tmp_path / "screenshots", stable)


@pytest.fixture
def browser() -> Iterator[Any]:
    """Headless Chromium from Debian's package. Requested before `server`, so a missing browser fails at once."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium; .ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def shot_on_failure(page: Any, shots: Shots, name: str) -> Iterator[None]:
    try:
        yield
    except BaseException:
        shots.take(page, f"{name}_FAILED")
        raise


def bring_into_view(locator: Any, block: str = "center") -> None:
    locator.scroll_into_view_if_needed()
    locator.evaluate(BRING_INTO_VIEW, block)


def open_page(browser: Any, url: str) -> Any:
    page = browser.new_page(viewport=VIEWPORT)
    page.set_default_timeout(TIMEOUT_MS)
    started = time.monotonic()
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_load_state("networkidle")
    print(f"{url}: loaded in {time.monotonic() - started:.1f}s")
    return page


def metadata_row(page: Any, label: str) -> Any:
    """The row of a metadata table whose first cell is `label`."""
    return page.locator(f"xpath=//tr[td[1][normalize-space()='{label}']]")


def chosen_samples_table(page: Any) -> Any:
    """The chosen_samples table metadata (the only table with a `contributors` column of its own)."""
    return page.locator("xpath=//table[thead/tr/th[normalize-space()='contributors']]")


def check_report_card(browser: Any, base: str, shots: Shots) -> dict[str, Any]:
    """fused_training_set's Overview lists its latest materialization's metadata: the `report` card is longer
    than the UI shows inline, so its row has a [Show Markdown] link that opens the rendered card in a dialog."""
    page = open_page(browser, f"{base}/assets/fused_training_set")
    with shot_on_failure(page, shots, "fused_training_set"):
        link = metadata_row(page, "report").get_by_text("[Show Markdown]")
        link.wait_for()
        bring_into_view(link)
        shots.take(page, "fused_training_set_report_row")
        link.click()
        dialog = page.get_by_role("dialog")
        heading = dialog.get_by_role("heading", name="Selection report: fused")
        heading.wait_for()
        text = dialog.inner_text()
        for expected in ("NovelSelect", "random (mean ± sd", "NovelSum", "vs random", "k-center", "facility location"):
            assert expected in text, f"{expected!r} not in the report card:\n{text[:2000]}"
        images = dialog.locator("img")
        images.first.wait_for()
        figures = images.evaluate_all(
            "els => els.map(e => ({alt: e.alt, src: e.getAttribute('src').slice(0, 30), complete: e.complete,"
            " width: e.naturalWidth, height: e.naturalHeight}))")
        assert figures and all(f["src"].startswith("data:image/png;base64,") for f in figures), figures
        # decoded by the browser, not only in the DOM: a sanitizer or CSP that blocks data: URIs leaves width 0
        assert all(f["complete"] and f["width"] > 100 and f["height"] > 100 for f in figures), figures
        assert {f["alt"] for f in figures} <= set(TITLES.values()), figures
        bring_into_view(heading, "nearest")  # the dialog opens at its top: keep its title in the shot
        shots.take(page, "fused_training_set_report_card")
        bring_into_view(images.first)
        shots.take(page, "fused_training_set_report_figure_in_card")
        shots.take(images.first, "fused_training_set_report_figure")
    page.close()
    return {"figures": figures}


def check_lineage_row(browser: Any, base: str, shots: Shots, expected: dict[str, str]) -> None:
    """family_selection's Partitions view of one partition lists that partition's latest materialization's
    metadata (the Overview's is the latest of any partition), the chosen_samples table among it."""
    family = expected["family"]
    page = open_page(browser, f"{base}/assets/family_selection?view=partitions&partition={family}")
    with shot_on_failure(page, shots, f"family_selection_{family}"):
        table = chosen_samples_table(page)
        row = table.locator(f"xpath=./tbody/tr[td[1][normalize-space()='{expected['task_id']}']]")
        row.wait_for()
        assert table.count() == 1, f"{table.count()} chosen_samples tables on the {family} partition's page"
        header = table.locator("xpath=./thead/tr/th").all_inner_texts()
        cells = dict(zip(header, (cell.strip() for cell in row.locator("xpath=./td").all_inner_texts())))
        assert {key: cells.get(key) for key in ("task_id", "family", "source", "family_step")} == {
            key: expected[key] for key in ("task_id", "family", "source", "family_step")}, cells
        assert cells["verdict"].startswith(expected["verdict"]), cells
        assert cells["contributors"].startswith(f"{expected['contributor']} ("), cells
        bring_into_view(row)
        row.evaluate("row => { row.style.outline = '3px solid #e5484d'; row.style.outlineOffset = '-2px'; }")
        shots.take(page, f"family_selection_{family}_lineage_row")
        shots.take(row, f"family_selection_{family}_lineage_row_close_up")
    page.close()


def expected_pick(db: Path, family: str, step: int) -> dict[str, str]:
    """The family selection's pick at `step` as the warehouse has it, in the UI's words: where the task came
    from, the curation verdict and the first contributor to its novelty."""
    with duckdb.connect(str(db), read_only=True) as con:
        found = con.execute("""
            SELECT s.task_id, s.pick_step, s.contributor_ids[1], r.generator, r.master_seed, r.sample_index, c.reason
            FROM family_selection s
            JOIN raw_tasks r USING (family, task_id) JOIN curated_tasks c USING (family, task_id)
            WHERE s.family = ? AND s.pick_step = ? AND r.source = 'generator'""", [family, step]).fetchall()
    assert len(found) == 1, found
    ((task_id, pick_step, contributor, generator, seed, index, reason),) = found
    return {"task_id": task_id, "family": family, "family_step": str(pick_step), "contributor": contributor,
            "source": f"{generator} seed {seed} #{index}", "verdict": reason}


def test_the_ui_shows_the_report_card_and_a_chosen_samples_lineage_in_a_real_browser(
        browser: Any, server: Server, shots: Shots, record_property: Any) -> None:
    started = time.monotonic()
    backfill = server.launch_backfill()
    runs = wait_for("the backfill's three runs", server,
                    lambda: finished(server, [r for r in server.runs() if r["tags"].get("dagster/backfill") == backfill], 3),
                    timeout=900)
    assert sorted(r["tags"]["dagster/partition"] for r in runs) == sorted(FAMILIES)
    wait_for("the fusion by automation after the backfill", server, server.latest_fusion_run, timeout=300)
    filled = time.monotonic()
    # the second pick: it has a contributor (the first pick scores against an empty selection)
    expected = expected_pick(server.db, "scheduling", 2)
    base = f"http://127.0.0.1:{server.port}"

    card = check_report_card(browser, base, shots)
    carded = time.monotonic()
    check_lineage_row(browser, base, shots, expected)
    done = time.monotonic()

    timings = {"fill_s": round(filled - started, 1), "report_card_s": round(carded - filled, 1),
               "lineage_row_s": round(done - carded, 1)}
    print(f"browser test: {timings}; card figures: {[(f['alt'], f['width'], f['height']) for f in card['figures']]}")
    for name, value in timings.items():
        record_property(name, value)
    record_property("screenshots", " ".join(map(str, shots.saved)))
    assert len(shots.saved) == 6 and all(path.stat().st_size > 1_000 for path in shots.saved), shots.saved
