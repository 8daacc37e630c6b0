"""``planfusion report`` on a small real warehouse built with the stages' own functions: it reads the
stored pools, sigma and picks, prints the table and writes report.html and the PNGs."""

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from planfusion import cli, tables, warehouse
from planfusion.novelsum.synthetic import clustered_embeddings
from planfusion.report.sources import family_inputs, fused_inputs
from planfusion.stages.fusion import fuse
from planfusion.stages.selection import SelectionParams, density_rows, select, selection_rows

FAMILIES = ("decomposition", "scheduling")
FAMILY_PARAMS = SelectionParams(budget=20, k=5, kappa1=1.0, kappa2=0.5, variant="magicagent", seed=0)
FUSION_PARAMS = SelectionParams(budget=15, k=4, kappa1=1.0, kappa2=1.0, variant="released", seed=1)


def build_warehouse(path: Path) -> None:
    con = warehouse.connect(path)
    for n, family in enumerate(FAMILIES):
        vectors = clustered_embeddings(60, 384, n_clusters=5, random_state=n)
        task_ids = [f"{family[:3]}-{i:03d}" for i in range(60)]
        warehouse.replace_rows(con, "raw_tasks", [
            {"family": family, "task_id": t, "subtype": f"sub{i % 3}",
             "record": {"id": t, "difficulty": {"level": 1 + i % 4, "knobs": {}}}} for i, t in enumerate(task_ids)
        ], family=family)
        warehouse.replace_rows(con, "task_embeddings", [
            {"family": family, "task_id": t, "embedding": v.tolist()} for t, v in zip(task_ids, vectors)
        ], family=family)
        density, rows = density_rows(task_ids, vectors, FAMILY_PARAMS.k)
        warehouse.replace_rows(con, "density_factors", rows.append_column("family", pa.array([family] * len(rows))),
                               family=family)
        selection = select(vectors, FAMILY_PARAMS, density)
        stamp = {"family": family, "variant": "magicagent", "budget": 20, "k": 5, "kappa1": 1.0, "kappa2": 0.5,
                 "seed": 0}
        warehouse.replace_rows(con, "family_selection", [r | stamp for r in selection_rows(task_ids, selection)],
                               family=family)
    task_ids, families, vectors = tables.selected_vectors(con)
    rows, _ = fuse(task_ids, families, vectors, FUSION_PARAMS)
    params = {"budget": 15, "k": 4, "kappa1": 1.0, "kappa2": 1.0, "variant": "released", "seed": 1}
    warehouse.replace_rows(con, "fused_training_set", [r | {"params": params} for r in rows])
    con.close()


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("warehouse") / "planfusion.duckdb"
    build_warehouse(path)
    return path


def test_inputs_are_the_stored_pools_sigma_and_picks(db):
    con = warehouse.connect(db, read_only=True)
    family = family_inputs(con, "scheduling")
    fused = fused_inputs(con)
    stored_fusion = tables.fused_picks(con)
    stored_sigma = [r[0] for r in con.execute("SELECT sigma FROM fused_training_set ORDER BY fusion_step").fetchall()]
    con.close()
    assert family.embeddings.shape == (60, 384) and len(family.picks) == 20
    assert (family.variant, family.kappa1, family.kappa2) == ("magicagent", 1.0, 0.5)
    assert set(family.categories.fields()["level"]) == {"1", "2", "3", "4"}
    assert fused.embeddings.shape == (40, 384) and len(fused.picks) == 15
    assert (fused.variant, fused.kappa2) == ("released", 1.0)
    # sigma recomputed on the union with the fusion's K is the sigma the fusion stored for its picks
    assert fused.sigma[fused.picks] == pytest.approx(np.array(stored_sigma))
    assert fused.novelty.tolist() == [r["novelty"] for r in stored_fusion]


def test_report_prints_the_tables_and_writes_the_page(db, tmp_path, capsys):
    out = tmp_path / "exports"
    assert cli.main(["report", "--db", str(db), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    for name in (*FAMILIES, "fused"):
        assert f"== {name}: pool" in printed
    assert printed.count("NovelSum") >= 6 and "facility location" in printed
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count("<section>") == 3 and page.count('src="data:image/png;base64,') >= 12
    assert (out / "report-fused-budget.png").read_bytes().startswith(b"\x89PNG")


def test_report_of_one_selection(db, tmp_path, capsys):
    out = tmp_path / "exports"
    assert cli.main(["report", "--db", str(db), "--fused", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "== fused: pool 40, B = 15, NovelSelect released ==" in printed and "decomposition: pool" not in printed
    assert (out / "report.html").read_text(encoding="utf-8").count("<section>") == 1


def test_report_says_what_is_missing(db, tmp_path, capsys):
    assert cli.main(["report", "--db", str(db), "--family", "nope", "--out", str(tmp_path)]) == 1
    assert "no selection of family 'nope'" in capsys.readouterr().err
    assert cli.main(["report", "--db", str(tmp_path / "none.duckdb"), "--out", str(tmp_path)]) == 2
    assert "cannot read" in capsys.readouterr().err
