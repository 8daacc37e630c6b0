"""Does the reasoning announce a different workflow than the final answer? (verifier side)

The last think that spells out a workflow (from its last ``Node:``) is parsed like an answer and
compared with the answer as graphs over action texts, so renumbering is not a contradiction. An
unparsable answer is the verifier's business (broken_format), not a contradiction.
"""

from __future__ import annotations

from planfusion.tasks.decomposition.workflow import FormatError, Workflow, normalize, parse_workflow
from planfusion.tasks.family import Record


def contradiction(record: Record) -> str | None:
    trajectory = record.get("trajectory")
    thinks = [m["think"] for m in trajectory if isinstance(m, dict) and m.get("role") == "assistant"
              and isinstance(m.get("think"), str) and "Node:" in m["think"]] if isinstance(trajectory, list) else []
    if not thinks:
        return None
    try:
        stated = parse_workflow(thinks[-1][thinks[-1].rindex("Node:"):])
        answer = parse_workflow(record.get("answer"))
    except FormatError:
        return None
    said_nodes, said_edges = _graph(stated)
    final_nodes, final_edges = _graph(answer)
    if said_nodes != final_nodes:
        only = sorted(set(said_nodes) ^ set(final_nodes)) or said_nodes
        return f"the reasoning plans {len(said_nodes)} steps, the answer {len(final_nodes)}; they differ on {only[:2]}"
    if said_edges != final_edges:
        diff = sorted(said_edges ^ final_edges)
        return f"the reasoning and the answer order the steps differently, e.g. {' -> '.join(diff[0])}"
    return None


def _graph(workflow: Workflow) -> tuple[list[str], set[tuple[str, str]]]:
    names = [normalize(t) for t in workflow.nodes]
    edges = ({(names[a - 1], names[b - 1]) for a, b in workflow.edges}
             | {("START", names[v - 1]) for v in workflow.starts} | {(names[v - 1], "END") for v in workflow.ends})
    return sorted(names), edges
