"""Stages stream (#14): raw rows and curated rows come in batches, and batching changes nothing in them."""

from __future__ import annotations

from pathlib import Path

from planfusion import tables, warehouse
from planfusion.stages.curation import CurationSummary, curated_batches, curated_rows
from planfusion.stages.raw import RawTasks, raw_batches, raw_tasks
from planfusion.tasks import get_family
from planfusion.tasks.filters import Curator
from planfusion.tasks.negatives import turn_negative
from planfusion.tasks.record import canonical_json, content_hash

FAMILY = "decomposition"


def test_raw_batches_hold_every_generated_task_and_negative_once(tmp_path: Path) -> None:
    family = get_family(FAMILY)
    clean = list(family.generate(11, 3))
    negatives = [n for i, r in enumerate(clean) if i % 4 == 0 if (n := turn_negative(family, r, 3, i // 4))]
    inbox = tmp_path / "inbox"
    (inbox / FAMILY).mkdir(parents=True)
    (inbox / FAMILY / "user.jsonl").write_text(canonical_json(clean[7]) + "\n")  # a generated task again
    found = RawTasks()
    batches = list(raw_batches(FAMILY, found, n=11, seed=3, params=None, inbox=inbox, negatives_every=4, batch_size=3))
    assert all(len(b) <= 4 for b in batches)  # a batch may end with a negative after its parent
    rows = [row for batch in batches for row in batch]
    assert sorted(r["task_id"] for r in rows) == sorted(r["id"] for r in clean + negatives)
    assert found.counts() == {"generated": 11, "negatives": len(negatives), "from_files": 0, "rejected_lines": 0,
                              "files": 1, "skipped_entries": 0}
    assert found.more_locations == {clean[7]["id"]: [f"{inbox / FAMILY / 'user.jsonl'}:1"]}
    whole = raw_tasks(FAMILY, n=11, seed=3, params=None, inbox=inbox, negatives_every=4)
    assert sorted((r["task_id"], r["content_hash"], tuple(r["locations"])) for r in whole.rows) == sorted(
        (r["task_id"], r["content_hash"], tuple(found.more_locations.get(r["task_id"], []))) for r in rows)


def test_curation_in_batches_decides_as_at_once_and_holds_no_record() -> None:
    records = list(get_family(FAMILY).generate(8, 5))
    records += [records[2], records[6]]  # exact copies, decided in a later batch than their first
    raw = [{"family": FAMILY, "task_id": f"t{i}", "content_hash": content_hash(r), "record": r}
           for i, r in enumerate(records)]
    summary = CurationSummary()
    streamed = [row for batch in curated_batches([raw[i:i + 3] for i in range(0, len(raw), 3)], summary=summary)
                for row in batch]
    assert streamed == curated_rows(raw)
    assert [r["reason"] for r in streamed[-2:]] == ["duplicate_exact"] * 2
    assert summary.total == len(raw) and summary.kept == sum(r["kept"] for r in streamed)
    curator = Curator()
    for row in raw:
        curator.decide(row["record"], row["content_hash"])
    assert all(record is None for _, record in curator.kept.structures.values())


def test_the_recheck_lists_kept_tasks_its_verifier_fails() -> None:
    records = list(get_family(FAMILY).generate(4, 9))
    raw = [{"family": FAMILY, "task_id": r["id"], "content_hash": content_hash(r), "record": r} for r in records]
    summary = CurationSummary()
    rejecting = lambda record: type("Verdict", (), {"passed": record["id"] != records[1]["id"]})()
    list(curated_batches([raw], summary=summary, recheck=rejecting))
    assert summary.failing == [records[1]["id"]]


def test_raw_records_come_in_read_order_with_their_own_record_also_when_rows_move(tmp_path: Path) -> None:
    """Records are fetched by rowid; a compaction between batches moves rows, and each must still come
    with its own record, in read order (here the table is rewritten in another order, old rowids now
    holding other tasks or nothing, another family's rows among them)."""
    con = warehouse.connect(tmp_path / "planfusion.duckdb")
    rows = lambda family, n: [{"family": family, "task_id": f"{family}{i:04d}", "source": "generator", "sample_index": i,
                               "content_hash": f"h{i}", "record": {"id": f"{family}{i:04d}"}} for i in range(n)]
    warehouse.replace_rows(con, "raw_tasks", rows("b", 300), family="b")
    warehouse.replace_rows(con, "raw_tasks", rows("a", 1200)[::-1], family="a")  # stored against read order
    batches = tables.raw_record_batches(con, "a", batch=500)
    read = next(batches)
    con.execute("CREATE OR REPLACE TABLE raw_tasks AS SELECT * FROM raw_tasks ORDER BY family, content_hash DESC")
    read += [row for batch in batches for row in batch]
    assert [r["task_id"] for r in read] == [f"a{i:04d}" for i in range(1200)]
    assert all(r["record"] == {"id": r["task_id"]} and r["content_hash"] == f"h{int(r['task_id'][1:])}" for r in read)
