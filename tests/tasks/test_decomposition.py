"""The decomposition family: what only it promises (gold workflows, stated and implied edges, subtype shapes,
verifier semantics, params, the action library). The contract all families keep (envelope, determinism,
ids, negatives caught, bad arguments, hygiene, export, golden hashes) is in test_family_contract.py."""

from __future__ import annotations

import copy
import random
from dataclasses import replace
from typing import Any

import pytest

from planfusion.tasks.decomposition import FAMILY
from planfusion.tasks.decomposition.domains import DOMAINS
from planfusion.tasks.decomposition.library import Action, Artifact, Domain, validate
from planfusion.tasks.decomposition.render import workflow_text
from planfusion.tasks.decomposition.signature import dag_signature
from planfusion.tasks.decomposition.stated import stated_edge_share, stated_edges
from planfusion.tasks.decomposition.workflow import parse_workflow
from planfusion.tasks.record import content_hash, derive_seed, restamp

SEED = 11
FILTER_REASONS = {"too_easy", "loop", "contradiction"}
Record = dict[str, Any]


@pytest.fixture(scope="module")
def clean() -> list[Record]:
    return list(FAMILY.generate(300, SEED))


@pytest.fixture(scope="module")
def fresh() -> list[Record]:
    """2,000 records on seeds no other test uses, for the properties that must hold on every record."""
    return [r for seed in (31, 47, 89, 163) for r in FAMILY.generate(500, seed)]


def _with_answer(record: Record, answer: str) -> Record:
    new = copy.deepcopy(record)
    new["answer"] = new["trajectory"][-1]["content"] = answer
    return restamp(new)


def _plan(record: Record) -> tuple[list[str], list[tuple[int, int]]]:
    return list(record["ground_truth"]["nodes"]), [(a, b) for a, b in record["ground_truth"]["edges"]]


# ---------------------------------------------------------------- contract and clean records


def test_identity() -> None:
    assert (FAMILY.name, FAMILY.generator, FAMILY.version) == ("decomposition", "planfusion.decomposition", "2")
    assert FAMILY.subtypes == ("linear", "parallel", "hierarchical") and FAMILY.min_steps == 3
    kinds = {p.kind for p in FAMILY.perturbations}
    assert {"dropped_dependency", "reversed_dependency", "cycle", "hallucinated_node", "missing_node",
            "duplicated_node", "broken_format", "too_few_steps", "contradiction"} <= kinds


def test_clean_records_score_full_marks_and_are_well_formed(clean: list[Record]) -> None:
    for record in clean:
        assert FAMILY.verify(record).metrics == {"f1_chain": 1.0, "f1_graph": 1.0, "extra_orderings": 0.0,
                                                 "redundant_edges": 0.0, "optimal": 1.0}
        trajectory = record["trajectory"]
        assert [m["role"] for m in trajectory] == ["system", "user", "assistant"]
        assert trajectory[1]["content"] == record["task"]["instruction"]
        assert trajectory[-1]["content"] == record["answer"] and trajectory[-1]["think"].endswith(record["answer"])
        assert record["text"] == record["task"]["instruction"] + "\n\n" + record["answer"]
        knobs = record["difficulty"]["knobs"]
        assert 3 <= knobs["nodes"] == FAMILY.count_steps(record) == record["quality"]["n_steps"] <= 25
        assert record["quality"]["format_ok"] and record["quality"]["answer_correct"]
        offered = {a["action"] for a in record["task"]["actions"]}
        assert set(record["ground_truth"]["nodes"]) < offered  # every task offers distractors by default
    assert {r["subtype"] for r in clean} == set(FAMILY.subtypes)
    assert {r["task"]["domain"] for r in clean} == set(DOMAINS)


def _producer_consumer(record: Record) -> tuple[set[str], set[tuple[str, str]]]:
    """Back-chained from the goal artifacts over the offered actions: the needed actions and every
    (producer, consumer) pair, read from the task alone."""
    producer = {a["produces"]: a["action"] for a in record["task"]["actions"]}
    needs = {a["action"]: a["needs"] for a in record["task"]["actions"]}
    needed: set[str] = set()
    pairs: set[tuple[str, str]] = set()
    todo = [producer[g] for g in record["task"]["goal_artifacts"]]
    while todo:
        action = todo.pop()
        if action not in needed:
            needed.add(action)
            pairs |= {(producer[x], action) for x in needs[action]}
            todo += [producer[x] for x in needs[action]]
    return needed, pairs


def _reduction(pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The pairs no longer path implies."""
    succ: dict[str, set[str]] = {}
    for a, b in pairs:
        succ.setdefault(a, set()).add(b)

    def below(v: str, seen: set[str]) -> set[str]:
        for w in succ.get(v, ()):
            if w not in seen:
                seen.add(w)
                below(w, seen)
        return seen

    return {(a, b) for a, b in pairs if not any(b in below(c, set()) for c in succ[a] if c != b)}


def test_gold_is_the_transitive_reduction_and_the_prompt_says_so(fresh: list[Record]) -> None:
    with_implied = 0
    for record in fresh:
        needed, pairs = _producer_consumer(record)
        reduced = _reduction(pairs)
        answer = parse_workflow(record["answer"])
        said = {(answer.nodes[a - 1], answer.nodes[b - 1]) for a, b in answer.edges}
        nodes = record["ground_truth"]["nodes"]
        gold = {(nodes[a - 1], nodes[b - 1]) for a, b in record["ground_truth"]["edges"]}
        assert set(answer.nodes) == set(nodes) == needed and said == gold == reduced, record["id"]
        instruction = record["task"]["instruction"]
        assert "every direct dependency" not in instruction
        assert "leave it out when a longer path of edges already puts i before j" in instruction
        assert ("arrive through longer chains" in record["trajectory"][-1]["think"]) == (pairs != reduced)
        with_implied += pairs != reduced
    assert with_implied >= len(fresh) // 4  # the rule matters: many tasks have implied edges


def test_implied_edges_are_accepted_but_not_optimal(clean: list[Record]) -> None:
    record = next(r for r in clean if "longer chains" in r["trajectory"][-1]["think"])
    nodes, edges = _plan(record)
    number = {text: k + 1 for k, text in enumerate(nodes)}
    _, pairs = _producer_consumer(record)
    implied = {(number[a], number[b]) for a, b in pairs} - set(edges)
    verdict = FAMILY.verify(_with_answer(record, workflow_text(nodes, edges + sorted(implied))))
    assert implied and verdict.passed and verdict.violations == ()
    assert verdict.metrics["redundant_edges"] == len(implied) and verdict.metrics["extra_orderings"] == 0
    assert verdict.metrics["optimal"] == 0.0 and verdict.metrics["f1_graph"] < 1.0


def _notes(record: Record) -> set[tuple[int, int]]:
    number = {text: k + 1 for k, text in enumerate(record["ground_truth"]["nodes"])}
    return {(number[a], number[b]) for a, b in record["task"]["ordering_notes"]}


@pytest.mark.parametrize("ratio", [0.0, 0.3, 0.5, 0.8, 1.0])
def test_implicit_edges_are_never_stated(ratio: float) -> None:
    """No record states more than 1 - implicit_ratio of its gold edges, and only as ordering notes."""
    records = list(FAMILY.generate(200, 59, {"min_implicit_ratio": ratio, "max_implicit_ratio": ratio}))
    for record in records:
        assert stated_edges(record) == _notes(record), record["id"]
        assert stated_edge_share(record) <= 1 - ratio + 1e-9, record["id"]
    mean = sum(stated_edge_share(r) for r in records) / len(records)
    assert 1 - ratio - 0.1 <= mean <= 1 - ratio + 0.01


def test_stated_share_with_default_params(fresh: list[Record]) -> None:
    shares = [stated_edge_share(r) for r in fresh]
    assert all(stated_edges(r) == _notes(r) for r in fresh)
    low, high = FAMILY.default_params["min_implicit_ratio"], FAMILY.default_params["max_implicit_ratio"]
    assert sum(shares) / len(shares) <= 1 - (low + high) / 2 + 0.01


def test_subtypes_have_their_shape(clean: list[Record]) -> None:
    for record in clean:
        nodes, edges = _plan(record)
        outs = [a for a, _ in edges]
        ins = [b for _, b in edges]
        chain = len(edges) == len(nodes) - 1 and len(set(outs)) == len(outs) and len(set(ins)) == len(ins)
        levels = record["difficulty"]["knobs"]["hierarchy_levels"]
        if record["subtype"] == "linear":
            assert chain and levels == 1
        elif record["subtype"] == "parallel":
            assert not chain and levels == 1
        else:
            assert levels >= 2 and record["difficulty"]["knobs"]["items"] >= 2
            assert all("subgoals" in group or "steps" in group for group in record["ground_truth"]["subgoals"])


# ---------------------------------------------------------------- negatives


@pytest.mark.parametrize("kind", FAMILY.perturbations, ids=lambda p: p.kind)
def test_each_perturbation_applies_to_most_records_and_trips_only_its_check(kind: Any, clean: list[Record]) -> None:
    """Beyond the contract (caught by its check): every kind applies to nearly every record, and a verifier
    negative trips that one check alone, never the contradiction filter too."""
    applied = 0
    for record in clean[:60]:
        rng = random.Random(derive_seed(SEED, record["lineage"]["index"], f"test:{kind.kind}", FAMILY.version))
        negative = kind.apply(record, rng)
        if negative is None:
            continue
        applied += 1
        checks = {check for check, _ in FAMILY.verify(negative).violations}
        if kind.caught_by not in FILTER_REASONS:
            assert checks == {kind.caught_by} and FAMILY.contradiction(negative) is None, (negative["id"], checks)
    assert applied >= 50, f"{kind.kind} applied to only {applied} of 60 records"


# ---------------------------------------------------------------- verifier semantics


def test_over_serialised_plan_is_correct_but_not_optimal(clean: list[Record]) -> None:
    record = next(r for r in clean if r["subtype"] == "parallel")
    nodes, _ = _plan(record)
    verdict = FAMILY.verify(_with_answer(record, workflow_text(nodes, [(k, k + 1) for k in range(1, len(nodes))])))
    assert verdict.passed and verdict.metrics["optimal"] == 0.0 and verdict.metrics["extra_orderings"] > 0
    assert verdict.metrics["f1_chain"] == 1.0 and verdict.metrics["f1_graph"] < 1.0


def test_another_valid_numbering_scores_full_marks(clean: list[Record]) -> None:
    record = next(r for r in clean if r["subtype"] == "hierarchical")
    nodes, edges = _plan(record)
    order: list[int] = []
    while len(order) < len(nodes):  # a different topological order: always the highest ready node
        order.append(max(v for v in range(1, len(nodes) + 1)
                         if v not in order and all(a in order for a, b in edges if b == v)))
    assert order != sorted(order)
    new = {v: k + 1 for k, v in enumerate(order)}
    answer = workflow_text([nodes[v - 1] for v in order], [(new[a], new[b]) for a, b in edges])
    verdict = FAMILY.verify(_with_answer(record, answer.replace("Node:\n1: ", "Node:\n1:   ").lower()))
    assert verdict.passed and verdict.metrics["f1_chain"] == verdict.metrics["f1_graph"] == 1.0


def test_contradiction_ignores_renumbering_but_not_a_different_plan(clean: list[Record]) -> None:
    record = copy.deepcopy(next(r for r in clean
                                if [1, len(r["ground_truth"]["nodes"])] not in r["ground_truth"]["edges"]))
    nodes, edges = _plan(record)
    n = len(nodes)
    final = record["trajectory"][-1]
    head = final["think"][:final["think"].rindex("Node:")]
    final["think"] = head + workflow_text(nodes[::-1], [(n + 1 - a, n + 1 - b) for a, b in edges])
    assert FAMILY.contradiction(record) is None
    final["think"] = head + workflow_text(nodes, edges + [(1, n)])
    assert "order the steps differently" in FAMILY.contradiction(record)
    final["think"] = head + workflow_text(nodes[1:], [(a - 1, b - 1) for a, b in edges if a > 1])
    assert "differ on" in FAMILY.contradiction(record)


@pytest.mark.parametrize("edit, check", [
    (lambda r: r.update(answer=None), "trajectory_format"),
    (lambda r: r.update(task=None), "malformed_record"),
    (lambda r: r.update(ground_truth={"nodes": "x"}), "malformed_record"),
    (lambda r: r["ground_truth"].update(edges=[[1, 99]]), "malformed_record"),
    (lambda r: r.update(trajectory="junk"), "trajectory_format"),
    (lambda r: r["ground_truth"]["edges"].pop(), "gold_mismatch"),
    (lambda r: r["task"].update(goal_artifacts=["nothing"]), "gold_mismatch"),
    (lambda r: r["task"]["ordering_notes"].append(["a", "b"]), "gold_mismatch"),
    (lambda r: r["task"]["actions"].append(dict(r["task"]["actions"][0])), "gold_mismatch"),
])
def test_verifier_reports_bad_records_without_raising(clean: list[Record], edit: Any, check: str) -> None:
    record = copy.deepcopy(next(r for r in clean if len(r["ground_truth"]["edges"]) > 2))
    edit(record)
    verdict = FAMILY.verify(record)
    assert not verdict.passed and check in [c for c, _ in verdict.violations], verdict.violations


@pytest.mark.parametrize("answer", [None, 42, "", "Node:", "Node:\n1: x\nEdge: (1,9)", "Node:\n2: x\nEdge: (START,2)",
                                    "Node:\n1: x\nEdge: (END,1)", "Node:\n1: x\nEdge: 1->END", "1: x\nEdge:"])
def test_unreadable_answers_are_broken_format(clean: list[Record], answer: Any) -> None:
    record = _with_answer(clean[0], answer)
    record["answer"] = answer
    assert "broken_format" in [c for c, _ in FAMILY.verify(record).violations]
    assert FAMILY.contradiction(record) is None


# ---------------------------------------------------------------- variety and signatures


def test_variety_on_1000_records() -> None:
    records = list(FAMILY.generate(1000, 3))
    assert len({content_hash(r) for r in records}) >= 990
    assert len({FAMILY.structural_signature(r) for r in records}) >= 900


def test_signature_ignores_entity_names_and_numbering(clean: list[Record]) -> None:
    record = next(r for r in clean if r["subtype"] == "parallel")
    renamed = copy.deepcopy(record)
    truth = renamed["ground_truth"]
    truth["nodes"] = [text.upper() for text in truth["nodes"]]
    renamed["task"]["ordering_notes"] = [[a.upper(), b.upper()] for a, b in renamed["task"]["ordering_notes"]]
    n = len(truth["nodes"])
    truth["nodes"], truth["kinds"] = truth["nodes"][::-1], truth["kinds"][::-1]
    truth["edges"] = [[n + 1 - a, n + 1 - b] for a, b in truth["edges"]]
    assert FAMILY.structural_signature(renamed) == FAMILY.structural_signature(record)
    assert dag_signature(renamed) == dag_signature(record)
    renamed["ground_truth"]["distractor_kinds"].append("cooking.serve")
    assert FAMILY.structural_signature(renamed) != FAMILY.structural_signature(record)
    assert dag_signature(renamed) == dag_signature(record)
    truth["edges"].pop()
    assert dag_signature(renamed) != dag_signature(record)


# ---------------------------------------------------------------- params and library


def test_params_shape_the_output() -> None:
    records = list(FAMILY.generate(30, 5, {"subtypes": ["parallel"], "domains": ["cooking"], "min_nodes": 8,
                                           "max_nodes": 12, "min_distractors": 0, "max_distractors": 0}))
    assert {(r["subtype"], r["task"]["domain"]) for r in records} == {("parallel", "cooking")}
    assert all(8 <= FAMILY.count_steps(r) <= 12 and r["difficulty"]["knobs"]["distractors"] == 0 for r in records)
    assert all(FAMILY.verify(r).passed for r in records)
    assert records[0]["lineage"]["params"]["max_items"] == FAMILY.default_params["max_items"]
    shallow = list(FAMILY.generate(30, 5, {"max_depth": 4}))
    assert all(r["difficulty"]["knobs"]["depth"] <= 4 and FAMILY.verify(r).passed for r in shallow)
    assert {r["subtype"] for r in shallow} == set(FAMILY.subtypes)


@pytest.mark.parametrize("params, message", [
    ({"min_nodes": 2}, "min_nodes"),
    ({"min_nodes": 10, "max_nodes": 9}, "max_nodes"),
    ({"subtypes": ["zigzag"]}, "subtypes"),
    ({"domains": []}, "domains"),
    ({"max_implicit_ratio": 1.5}, "max_implicit_ratio"),
    ({"max_items": 1}, "hierarchical"),
    ({"subtypes": ["linear"], "min_nodes": 20}, "linear"),
    ({"max_depth": 1}, "max_depth"),
    ({"max_depth": 2}, "linear"),
])
def test_bad_params_are_a_clear_error(params: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FAMILY.generate_one(0, 0, params)


def _domain(actions: tuple[Action, ...]) -> Domain:
    return Domain(key="toy", item_noun="thing", item_title="{item}", items=("a", "b"), slots={}, contexts=("x",),
                  aspects={"main": "Main"}, artifacts=(Artifact("p", "p"), Artifact("q", "{item} q")), actions=actions)


def test_an_article_before_a_slot_that_brings_its_own_fails_loudly() -> None:
    toy = _domain((Action("make_p", "Make p for the {owner}", "p"), Action("make_q", "Make {item} q", "q")))
    with pytest.raises(ValueError, match="article before {owner}"):
        validate(replace(toy, slots={"owner": ("the Smiths", "Ana")}))
    validate(replace(toy, slots={"owner": ("Smiths", "Ana")}))
    with pytest.raises(ValueError, match="article before {item}"):  # artifact names are rendered after "the"
        validate(replace(toy, slots={"owner": ("Ana",)}, items=("the attic", "b")))


@pytest.mark.parametrize("actions, message", [
    ((Action("make_p", "Make p", "p", ("q",)), Action("make_q", "Make {item} q", "q", ("p",))), "cycle"),
    ((Action("make_p", "Make p", "p"), Action("make_q", "Make q", "q")), "name {item}"),
    ((Action("make_p", "Make p", "p"),), "nothing produces"),
    ((Action("make_p", "Make p", "p", ("r",)), Action("make_q", "Make {item} q", "q")), "unknown artifact"),
])
def test_library_mistakes_fail_loudly(actions: tuple[Action, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate(_domain(actions))


def _paths(value: Any, prefix: tuple[Any, ...] = (), depth: int = 4) -> list[tuple[Any, ...]]:
    """Every dict key / list index path down to ``depth`` (lists: first two entries only)."""
    if depth == 0:
        return []
    children = list(value.items()) if isinstance(value, dict) else list(enumerate(value[:2])) \
        if isinstance(value, list) else []
    return [p for key, child in children for p in [prefix + (key,)] + _paths(child, prefix + (key,), depth - 1)]


def test_verifier_and_filters_never_raise_on_junk(clean: list[Record]) -> None:
    record = next(r for r in clean if r["subtype"] == "linear")
    junk: list[Any] = [None, 7, "x", [], {}, [[1, 2]], [["a", ["b"]]], [{"action": []}]]
    for path in _paths(record):
        for value in junk:
            broken = copy.deepcopy(record)
            target = broken
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = value
            verdict = FAMILY.verify(broken)
            FAMILY.contradiction(broken)
            FAMILY.structural_signature(broken)
            FAMILY.count_steps(broken)
            assert isinstance(verdict.passed, bool)


VERIFIER_SIDE = ("verifier", "scores", "workflow", "contradiction", "signature", "stated")


@pytest.mark.parametrize("module", VERIFIER_SIDE)
def test_verifier_side_never_imports_the_generator(module: str) -> None:
    """The checks must re-derive everything themselves: only each other, the record contract and stdlib."""
    import ast
    import importlib

    source = importlib.import_module(f"planfusion.tasks.decomposition.{module}").__file__
    tree = ast.parse(open(source, encoding="utf-8").read())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    allowed = {f"planfusion.tasks.decomposition.{m}" for m in VERIFIER_SIDE} | {
        "planfusion.tasks.family", "planfusion.tasks.record"}
    assert {m for m in imported if m.startswith("planfusion")} <= allowed
