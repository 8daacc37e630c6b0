"""The action library: artifact types, atomic actions that turn artifacts into artifacts, and domains.

Typed inputs and outputs are what make back-chaining possible: in a plan every artifact instance has
exactly one producer, so the gold workflow follows from the goal artifacts alone. An artifact whose
name contains ``{item}`` exists once per item of the task (per destination, dataset, dish, ...); an
action is per-item when its output is. A global action that needs a per-item artifact needs it for
every item (a fan-in join); a per-item action needs the one of its own item.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from functools import cached_property
from typing import Mapping

ITEM = "item"
_ARTICLES = frozenset({"a", "an", "the"})


@dataclass(frozen=True)
class Artifact:
    key: str
    name: str                 # display template; "{item}" makes it per-item
    goal: str | None = None   # phrase used when it is requested as a deliverable

    @cached_property
    def per_item(self) -> bool:
        return "{item}" in self.name


@dataclass(frozen=True)
class Action:
    key: str
    text: str                          # display template, unique within its domain
    output: str                        # artifact key
    needs: tuple[str, ...] = ()        # artifact keys always consumed
    optional: tuple[str, ...] = ()     # artifact keys consumed in some tasks (joins, redundant edges)
    aspect: str = "main"               # sub-goal group, a key of Domain.aspects


@dataclass(frozen=True)
class Domain:
    key: str
    item_noun: str                     # "destination": titles the per-item phase of a 3-level hierarchy
    item_title: str                    # sub-goal title of one item, e.g. "The {item} leg"
    items: tuple[str, ...]
    slots: Mapping[str, tuple[str, ...]]
    contexts: tuple[str, ...]          # opening sentences; may use slots and {items}
    aspects: Mapping[str, str]         # aspect key -> sub-goal title, in presentation order
    artifacts: tuple[Artifact, ...]
    actions: tuple[Action, ...] = field(repr=False)

    @cached_property
    def artifact(self) -> dict[str, Artifact]:
        return {a.key: a for a in self.artifacts}

    @cached_property
    def producers(self) -> dict[str, tuple[Action, ...]]:
        return {a.key: tuple(x for x in self.actions if x.output == a.key) for a in self.artifacts}

    @cached_property
    def goals(self) -> tuple[str, ...]:
        return tuple(a.key for a in self.artifacts if a.goal is not None)

    @cached_property
    def chain_lengths(self) -> dict[str, frozenset[int]]:
        """Lengths of the producer chains that end in each artifact using only single-input actions.

        Linear tasks are built from these, so their length can be chosen exactly.
        """
        lengths: dict[str, frozenset[int]] = {}

        def visit(key: str) -> frozenset[int]:
            if key not in lengths:
                found: set[int] = set()
                for action in self.producers[key]:
                    if not action.needs:
                        found.add(1)
                    elif len(action.needs) == 1:
                        found.update(n + 1 for n in visit(action.needs[0]))
                lengths[key] = frozenset(found)
            return lengths[key]

        for artifact in self.artifacts:
            visit(artifact.key)
        return lengths

    def is_per_item(self, action: Action) -> bool:
        return self.artifact[action.output].per_item

    def scopes(self, need: str, item: str | None, items: tuple[str, ...]) -> tuple[str | None, ...]:
        """The instances of artifact ``need`` consumed by an action for ``item`` (None: a global action)."""
        if not self.artifact[need].per_item:
            return (None,)
        return (item,) if item is not None else items


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def validate(domain: Domain) -> None:
    """Fail loudly on a library mistake: unknown names, cycles, ambiguous texts, unproducible artifacts."""
    where = f"domain {domain.key!r}"
    known = set(domain.slots) | {ITEM}
    keys = [a.key for a in domain.artifacts]
    if len(set(keys)) != len(keys):
        raise ValueError(f"{where}: duplicate artifact keys")
    for artifact in domain.artifacts:
        for template in (artifact.name, artifact.goal or ""):
            unknown = _placeholders(template) - known
            if unknown:
                raise ValueError(f"{where}: artifact {artifact.key!r} uses unknown slots {sorted(unknown)}")
        if artifact.goal is not None and artifact.per_item:
            raise ValueError(f"{where}: goal artifact {artifact.key!r} must not be per-item")
        if not domain.producers[artifact.key]:
            raise ValueError(f"{where}: nothing produces artifact {artifact.key!r}")
    for context in domain.contexts:
        if _placeholders(context) - set(domain.slots) - {"items"}:
            raise ValueError(f"{where}: context {context!r} uses unknown slots")
    seen_keys: set[str] = set()
    seen_texts: set[str] = set()
    for action in domain.actions:
        label = f"{where}: action {action.key!r}"
        if action.key in seen_keys or action.text in seen_texts:
            raise ValueError(f"{label}: duplicate key or text")
        seen_keys.add(action.key)
        seen_texts.add(action.text)
        inputs = action.needs + action.optional
        if action.output not in domain.artifact or any(k not in domain.artifact for k in inputs):
            raise ValueError(f"{label}: unknown artifact in {action.output!r} <- {inputs}")
        if len(set(inputs)) != len(inputs) or action.output in inputs:
            raise ValueError(f"{label}: repeated input or output among its inputs")
        if action.aspect not in domain.aspects:
            raise ValueError(f"{label}: unknown aspect {action.aspect!r}")
        placeholders = _placeholders(action.text)
        if placeholders - known:
            raise ValueError(f"{label}: unknown slots {sorted(placeholders - known)}")
        if (ITEM in placeholders) != domain.is_per_item(action):
            raise ValueError(f"{label}: text must name {{item}} exactly when its output is per-item")
    _check_articles(domain)
    _check_acyclic(domain)


def _check_articles(domain: Domain) -> None:
    """An article before a slot whose values bring their own renders "the the Fern meal kit": refuse it.

    Artifact names are always rendered after "the" ("uses the ...", "produces the ..."), so a slot that
    opens one counts as preceded by an article.
    """
    values = {**domain.slots, ITEM: domain.items, "items": domain.items}
    templates = ([a.text for a in domain.actions] + [a.goal for a in domain.artifacts if a.goal]
                 + ["the " + a.name for a in domain.artifacts] + [*domain.contexts, domain.item_title])
    for template in templates:
        for literal, name, _, _ in string.Formatter().parse(template):
            last = literal.split()[-1].lower() if literal.strip() else ""
            if name is None or not literal.endswith(" ") or last not in _ARTICLES:
                continue
            led = [v for v in values[name] if len(v.split()) > 1 and v.split()[0].lower() in _ARTICLES]
            if led:
                raise ValueError(f"domain {domain.key!r}: {template!r} puts an article before {{{name}}}, "
                                 f"but its value {led[0]!r} has one")


def _check_acyclic(domain: Domain) -> None:
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(key: str, path: tuple[str, ...]) -> None:
        if state.get(key) == 2:
            return
        if state.get(key) == 1:
            raise ValueError(f"domain {domain.key!r}: artifact cycle {' <- '.join(path + (key,))}")
        state[key] = 1
        for action in domain.producers[key]:
            for need in action.needs + action.optional:
                visit(need, path + (key,))
        state[key] = 2

    for artifact in domain.artifacts:
        visit(artifact.key, ())
