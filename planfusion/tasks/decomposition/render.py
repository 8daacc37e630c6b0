"""Texts of a task: the instruction a solver sees, the reasoning it should produce, the WorfBench answer.

Phrasings vary by the record's RNG so that texts differ beyond entity names; structure never does.
"""

from __future__ import annotations

import random
from typing import Any, Iterable, Sequence

SYSTEM_PROMPT = (
    "You are a planning assistant. Break the user's goal into sub-goals, work out which of the offered "
    "actions it needs and which must come before which, then give the workflow as a graph in the "
    "requested format."
)
# The gold workflow is the transitive reduction of the producer->consumer edges (WorfBench's convention);
# the prompt states that rule, and the verifier accepts the implied edges but scores the answer not optimal.
EDGE_RULE = ("Add an edge (i,j) when action j uses what action i produces, but leave it out when a longer path of "
             "edges already puts i before j: listing it anyway does not make the plan wrong, but the expected "
             "answer omits it.")
FORMAT_HELP = (
    "Answer with the workflow in this format, one numbered action per line, then the edges:\n"
    "Node:\n1: <action>\n2: <action>\n...\nEdge: (START,1) (1,2) ... (n,END)\n"
    "Copy the action texts exactly and use only the actions the goal needs. " + EDGE_RULE + " Connect START to "
    "the actions that need nothing and the final actions to END."
)
_GOAL = ("Your task: {goals}.", "The goal is to {goals}.", "We need to {goals}.", "Please plan how to {goals}.")
_PARTS = ("The work falls into these parts: {parts}.", "Think of it in parts: {parts}.",
          "It breaks down into {parts}.")
_OFFER_HEAD = ("Available actions (not all of them are needed):", "You can use these actions; some are irrelevant:",
               "Action catalogue (it includes actions the goal does not need):")
_OFFER_LINE = ("- {action}: uses {needs}; produces the {output}.", "- {action} (input: {needs}; output: the {output})")
_NOTES_HEAD = ("Ordering constraints from the team:", "Also keep in mind:", "Known dependencies:")
_NOTE_LINE = ('- "{first}" has to be finished before "{then}" starts.', '- "{then}" can only start after "{first}".')
_OPENER = (
    "The goal is to {goals}. What has to exist at the end: {deliverables}. I work backwards from there "
    "through the artifacts each action uses, and leave out whatever nothing needs.",
    "I need to {goals}, which means producing {deliverables}. Tracing back which action produces each "
    "input gives the steps; anything that feeds nothing is not part of the plan.",
)


def sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def join_words(words: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def workflow_text(nodes: Sequence[str], edges: Iterable[tuple[int, int]]) -> str:
    """WorfBench's answer: numbered nodes, then START edges, dependencies and END edges."""
    edges = sorted(edges)
    targets = {v for _, v in edges}
    sources = {u for u, _ in edges}
    numbers = range(1, len(nodes) + 1)
    pairs = ([f"(START,{i})" for i in numbers if i not in targets] + [f"({u},{v})" for u, v in edges]
             + [f"({i},END)" for i in numbers if i not in sources])
    lines = ["Node:"] + [f"{i}: {text}" for i, text in zip(numbers, nodes)] + ["Edge: " + " ".join(pairs)]
    return "\n".join(lines)


def instruction_text(rng: random.Random, context: str, goals: list[str], parts: list[str],
                     offered: list[dict[str, Any]], notes: list[list[str]]) -> str:
    head = sentence(context) + " " + rng.choice(_GOAL).format(goals=join_words(goals))
    if parts:
        head += " " + rng.choice(_PARTS).format(parts=join_words([p[:1].lower() + p[1:] for p in parts]))
    line = rng.choice(_OFFER_LINE)
    blocks = [head, "\n".join([rng.choice(_OFFER_HEAD)] + [
        line.format(action=a["action"], output=a["produces"],
                    needs=join_words(["the " + n for n in a["needs"]]) if a["needs"] else "nothing")
        for a in offered])]
    if notes:
        note = rng.choice(_NOTE_LINE)
        blocks.append("\n".join([rng.choice(_NOTES_HEAD)] + [note.format(first=a, then=b) for a, b in notes]))
    blocks.append(FORMAT_HELP)
    return "\n\n".join(blocks)


def think_text(rng: random.Random, goals: list[str], deliverables: list[str], subgoals: list[dict[str, Any]],
               nodes: list[str], needs: list[list[tuple[str, int]]], implied: Sequence[tuple[int, int]],
               distractors: list[str], answer: str) -> str:
    """Goal, sub-goal tree, dependencies traced back from the end, pruned edges, unused actions, the plan.

    ``needs[k]`` lists (artifact, producing node number) for node k+1.
    """
    lines = [rng.choice(_OPENER).format(goals=join_words(goals),
                                        deliverables=join_words(["the " + d for d in deliverables])), "",
             "Sub-goals:"]
    lines += _tree_lines(subgoals, nodes, "", 0)
    lines += ["", "Dependencies, working back from the end:"]
    for number in range(len(nodes), 0, -1):
        wanted = needs[number - 1]
        if wanted:
            sources = join_words([f"the {art} from step {p}" for art, p in wanted])
            lines.append(f"- Step {number} ({nodes[number - 1]}) needs {sources}.")
        else:
            lines.append(f"- Step {number} ({nodes[number - 1]}) needs nothing, so it follows START.")
    if implied:
        pairs = join_words([f"{u}->{v}" for u, v in implied])
        lines.append(f"Some of these inputs already arrive through longer chains, so {pairs} get no edge of "
                     "their own.")
    if distractors:
        lines += ["", "Not needed, since nothing on the way to the goal uses their outputs: "
                  + join_words([f'"{d}"' for d in distractors]) + "."]
    lines += ["", "Final workflow:", answer]
    return "\n".join(lines)


def _tree_lines(tree: list[dict[str, Any]], nodes: list[str], prefix: str, depth: int) -> list[str]:
    lines = []
    for k, group in enumerate(tree, 1):
        label = f"{prefix}{k}."
        indent = "   " * depth
        if "steps" in group:
            steps = "; ".join(f"{n}) {nodes[n - 1]}" for n in group["steps"])
            lines.append(f"{indent}{label} {group['title']}: {steps}")
        else:
            lines.append(f"{indent}{label} {group['title']}")
            lines += _tree_lines(group["subgoals"], nodes, label, depth + 1)
    return lines
