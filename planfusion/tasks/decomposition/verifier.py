"""The independent verifier: re-derive the gold workflow from the task, then judge the answer against it.

Two routes must agree (the generator's ground truth and a back-chaining over the offered actions'
inputs and outputs done here, reduced to the edges no longer path implies), and the answer must
contain exactly the needed actions, stay acyclic, and order every gold dependency (its transitive
closure must contain each gold edge). Extra orderings (an over-serialised plan) and edges that a
longer path of the answer already implies (the prompt asks to leave those out) are allowed; they
show up in the metrics and make the answer not optimal, but they are not violations.

Check names, in the order they are reported: malformed_record, trajectory_format, gold_mismatch,
broken_format, hallucinated_node, extra_node, duplicate_node, missing_node, cycle, dependency_violated.
"""

from __future__ import annotations

from typing import Any

from planfusion.tasks.decomposition.scores import f1_chain, f1_graph
from planfusion.tasks.decomposition.workflow import FormatError, closure, normalize, parse_workflow
from planfusion.tasks.family import Record, Verdict

Violations = list[tuple[str, str]]


def verify(record: Record) -> Verdict:
    if not isinstance(record, dict):
        return Verdict(False, (("malformed_record", "the record is not an object"),))
    violations: Violations = []
    task, truth = record.get("task"), record.get("ground_truth")
    gold = _read_gold(truth, violations)
    offered = _read_offered(task, violations)
    if gold is None or offered is None:
        return Verdict(False, tuple(violations))
    nodes, edges = gold
    _check_trajectory(record, violations)
    _check_against_task(task, offered, nodes, edges, violations)
    try:
        answer = parse_workflow(record.get("answer"))
    except FormatError as exc:
        violations.append(("broken_format", str(exc)))
        return Verdict(False, tuple(violations))

    gold_index = {normalize(text): k for k, text in enumerate(nodes)}
    offered_keys = {normalize(a["action"]) for a in offered}
    mapped = [gold_index.get(normalize(text), -1) for text in answer.nodes]
    _check_nodes(answer.nodes, mapped, offered_keys, nodes, violations)

    reach, stuck = closure(len(answer.nodes), answer.edges)
    extra_orderings = redundant = 0
    if stuck:
        violations.append(("cycle", "nodes " + ", ".join(map(str, stuck)) + " are on or after a dependency loop"))
    else:
        extra_orderings = _check_dependencies(reach, mapped, nodes, edges, violations)
        redundant = _redundant_edges(reach, answer.edges)
    passed = not violations
    metrics = {
        "f1_chain": f1_chain(mapped, len(nodes), edges),
        "f1_graph": f1_graph(answer, mapped, len(nodes), edges),
        "extra_orderings": float(extra_orderings),
        "redundant_edges": float(redundant),
        "optimal": float(passed and not extra_orderings and not redundant),
    }
    return Verdict(passed, tuple(violations), metrics)


def _read_gold(truth: Any, violations: Violations) -> tuple[list[str], list[tuple[int, int]]] | None:
    """Gold nodes and 0-based edges, or None (with a violation) when ground truth is unusable."""
    if not isinstance(truth, dict):
        violations.append(("malformed_record", "ground_truth is not an object"))
        return None
    nodes, edges = truth.get("nodes"), truth.get("edges")
    if not isinstance(nodes, list) or not nodes or not all(isinstance(t, str) for t in nodes):
        violations.append(("malformed_record", "ground_truth.nodes is not a non-empty list of texts"))
        return None
    if not isinstance(edges, list) or not all(
        isinstance(e, list) and len(e) == 2 and all(type(x) is int and 1 <= x <= len(nodes) for x in e) for e in edges
    ):
        violations.append(("malformed_record", "ground_truth.edges is not a list of [from, to] node numbers"))
        return None
    return nodes, [(a - 1, b - 1) for a, b in edges]


def _read_offered(task: Any, violations: Violations) -> list[dict[str, Any]] | None:
    actions = task.get("actions") if isinstance(task, dict) else None
    if not isinstance(actions, list) or not all(
        isinstance(a, dict) and isinstance(a.get("action"), str) and isinstance(a.get("produces"), str)
        and isinstance(a.get("needs"), list) and all(isinstance(x, str) for x in a["needs"]) for a in actions
    ):
        violations.append(("malformed_record", "task.actions is not a list of {action, needs, produces}"))
        return None
    return actions


def _check_trajectory(record: Record, violations: Violations) -> None:
    trajectory = record.get("trajectory")
    if not isinstance(trajectory, list) or not trajectory or not all(isinstance(m, dict) for m in trajectory):
        violations.append(("trajectory_format", "trajectory is not a non-empty list of messages"))
        return
    roles = [m.get("role") for m in trajectory]
    last = trajectory[-1]
    if "user" not in roles or any(r not in ("system", "user", "assistant", "tool") for r in roles):
        violations.append(("trajectory_format", f"unexpected roles {roles}"))
    elif last.get("role") != "assistant" or last.get("content") != record.get("answer"):
        violations.append(("trajectory_format", "the last message is not the assistant's final answer"))
    elif any(m.get("role") == "assistant" and not isinstance(m.get("think"), str) for m in trajectory):
        violations.append(("trajectory_format", "an assistant message carries no think text"))


def _check_against_task(task: dict[str, Any], offered: list[dict[str, Any]], nodes: list[str],
                        edges: list[tuple[int, int]], violations: Violations) -> None:
    """Back-chain from the goal artifacts over the offered actions; the result must be the ground truth."""
    producer: dict[str, str] = {}
    needs: dict[str, list[str]] = {}
    for action in offered:
        if action["produces"] in producer:
            violations.append(("gold_mismatch", f"two offered actions produce the {action['produces']}"))
            return
        producer[action["produces"]] = action["action"]
        needs[action["action"]] = action["needs"]
    goals = task.get("goal_artifacts")
    if not isinstance(goals, list) or not goals or any(not isinstance(g, str) or g not in producer for g in goals):
        violations.append(("gold_mismatch", "the goal artifacts are not all produced by offered actions"))
        return
    needed: list[str] = []
    position: dict[str, int] = {}
    arcs: set[tuple[int, int]] = set()
    stack = [producer[g] for g in goals]
    while stack:
        action = stack.pop()
        if action in position:
            continue
        position[action] = len(needed)
        needed.append(action)
        for x in needs[action]:
            if x not in producer:
                violations.append(("gold_mismatch", f"no offered action produces the {x} that {action!r} needs"))
                return
            stack.append(producer[x])
    for action in needed:
        arcs.update((position[producer[x]] + 1, position[action] + 1) for x in needs[action])
    reach, stuck = closure(len(needed), arcs)
    if stuck:
        violations.append(("gold_mismatch", "the offered actions' artifacts depend on each other in a loop"))
        return
    succ: dict[int, list[int]] = {}
    for a, b in arcs:
        succ.setdefault(a, []).append(b)
    direct = {(a, b) for a, b in arcs if not any(reach[c] >> b & 1 for c in succ[a] if c != b)}
    derived = {(needed[a - 1], needed[b - 1]) for a, b in direct}
    stated = {(nodes[a], nodes[b]) for a, b in edges}
    if sorted(needed) != sorted(nodes) or derived != stated:
        missing = sorted(set(nodes) ^ set(needed)) or sorted(derived ^ stated)
        violations.append(("gold_mismatch", f"ground truth and the task's artifacts disagree on {missing[:3]}"))
        return
    notes = task.get("ordering_notes", [])
    for note in notes if isinstance(notes, list) else [None]:
        ok = (isinstance(note, list) and len(note) == 2 and all(isinstance(x, str) and x in position for x in note)
              and reach[position[note[0]] + 1] >> (position[note[1]] + 1) & 1)
        if not ok:
            violations.append(("gold_mismatch", f"ordering note {note!r} is not a dependency of the gold workflow"))
            return


def _check_nodes(answer_nodes: tuple[str, ...], mapped: list[int], offered_keys: set[str], nodes: list[str],
                 violations: Violations) -> None:
    for text, k in zip(answer_nodes, mapped):
        if k < 0 and normalize(text) not in offered_keys:
            violations.append(("hallucinated_node", f"{text!r} is not one of the offered actions"))
    for text, k in zip(answer_nodes, mapped):
        if k < 0 and normalize(text) in offered_keys:
            violations.append(("extra_node", f"{text!r} is offered but the goal does not need it"))
    seen: set[int] = set()
    for text, k in zip(answer_nodes, mapped):
        if k >= 0 and k in seen:
            violations.append(("duplicate_node", f"{text!r} appears more than once"))
        seen.add(k)
    for k, text in enumerate(nodes):
        if k not in seen:
            violations.append(("missing_node", f"{text!r} is needed but absent"))


def _check_dependencies(reach: list[int], mapped: list[int], nodes: list[str], edges: list[tuple[int, int]],
                        violations: Violations) -> int:
    """Report gold edges the answer does not order; return how many orderings it adds beyond the gold's."""
    n = len(mapped)
    ordered = {(mapped[x - 1], mapped[y - 1]) for x in range(1, n + 1) if mapped[x - 1] >= 0
               for y in range(1, n + 1) if reach[x] >> y & 1 and mapped[y - 1] >= 0}
    present = set(mapped)
    for a, b in edges:
        if a in present and b in present and (a, b) not in ordered:
            how = "reversed" if (b, a) in ordered else "not ordered"
            violations.append(("dependency_violated", f"{nodes[a]!r} must come before {nodes[b]!r} ({how})"))
    gold_reach, _ = closure(len(nodes), [(a + 1, b + 1) for a, b in edges])
    return sum(1 for a, b in ordered if a != b and not gold_reach[a + 1] >> (b + 1) & 1)


def _redundant_edges(reach: list[int], edges: tuple[tuple[int, int], ...]) -> int:
    """Answer edges (a,b) that a longer path of the answer already implies: a -> c ->...-> b."""
    succ: dict[int, set[int]] = {}
    for a, b in edges:
        succ.setdefault(a, set()).add(b)
    return sum(1 for a, targets in succ.items() for b in targets
               if any(reach[c] >> b & 1 for c in targets if c != b))
