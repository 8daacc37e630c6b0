"""The recorder a goal program is written against: it executes each reference call in the simulator as
the program runs, so every later call can use values that were really observed, and it keeps what
the record needs (calls with their data dependencies, the assistant steps, outputs, injected errors)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Callable

from planfusion.tasks.tool_execution.env import TOOLS, Simulator
from planfusion.tasks.tool_execution.scenarios.errors import noun, wrong_variants


@dataclass(slots=True)
class Call:
    name: str
    arguments: dict[str, Any]
    depends_on: list[int]  # indices of earlier reference calls whose observations fed this call's arguments
    result: dict[str, Any]
    turn: int


@dataclass(slots=True)
class InjectedError:
    """A recoverable slip shown before the reference call of a step: wrong arguments, the error, a reflection."""

    arguments: dict[str, Any]
    result: dict[str, Any]
    reflection: str


@dataclass(slots=True)
class Step:
    """One assistant message: its reasoning and the reference calls it issues (several = parallel calls)."""

    think: str
    refs: list[int] = field(default_factory=list)
    error: InjectedError | None = None


@dataclass(frozen=True, slots=True)
class Obs:
    """An observation together with the index of the call that produced it."""

    ref: int
    data: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.data[key]


@dataclass(frozen=True)
class Piece:
    """One user request inside a turn and the assistant's reply once its calls are done."""

    request: str
    reply: str


Spec = tuple[str, dict[str, Any], tuple[Obs, ...]]  # (tool name, arguments, observations it uses)


class Session:
    def __init__(self, initial_state: dict[str, Any], rng: random.Random, error_at: list[int],
                 people: list[str]) -> None:
        self.sim = Simulator(initial_state)
        self.initial = initial_state  # never changed: the world before this conversation
        self.rng = rng
        self.people = people  # the world's person names (customers, owners)
        self.calls: list[Call] = []
        self.steps: list[Step] = []
        self.outputs: list[dict[str, Any]] = []
        self.turn = 0
        self.budget = 0  # calls the running piece may still make
        self.error_at = error_at  # call positions (ascending) at which to inject a recoverable error
        self.handles: dict[str, tuple[Any, Obs, int, str]] = {}  # kind -> (value, source, turn, phrase)
        self.context: dict[str, list[str]] = {}  # what earlier requests said that later ones must respect
        self.wording = 0  # which wording the last request used (for the variety report)

    @property
    def state(self) -> dict[str, Any]:
        """The world as it is now: goals are picked from it before the calls that discover it are made."""
        return self.sim.state

    def say(self, *wordings: str) -> str:
        """The request in one of its wordings, picked by the seeded rng; the pick is kept in ``wording``."""
        self.wording = self.rng.randrange(len(wordings))
        return wordings[self.wording]

    def pristine(self, backend: str, collection: str, key: str, *fields: str) -> bool:
        """The object existed before this conversation and (these fields of) it are as they were then: a
        request may change or undo it without overruling what an earlier request of the same user did."""
        then, now = self.initial[backend][collection].get(key), self.state[backend][collection].get(key)
        if then is None or now is None:
            return False
        return all(then[f] == now[f] for f in fields) if fields else then == now

    def call(self, think: str, name: str, arguments: dict[str, Any], *uses: Obs) -> Obs:
        return self.parallel(think, [(name, arguments, uses)])[0]

    def parallel(self, think: str, specs: list[Spec]) -> list[Obs]:
        """Issue the calls as one assistant message; a call identical to the one just before is not
        repeated (that would be a loop): its earlier observation is reused."""
        step = Step(think)
        observed: list[Obs] = []
        for name, arguments, uses in specs:
            last = self.calls[-1] if self.calls else None
            if last is not None and last.name == name and last.arguments == arguments:
                observed.append(Obs(len(self.calls) - 1, last.result))
                continue
            self.budget -= 1
            if self.budget < 0:
                raise RuntimeError(f"piece exceeded its call budget at {name}")
            if len(specs) == 1 and self.error_at and len(self.calls) >= self.error_at[0]:
                step.error = self._inject(name, arguments, uses)
            result = self.sim.call(name, arguments, prechecked=True)  # the verifier schema-checks every call
            if "error" in result:
                raise RuntimeError(f"reference call {name}({arguments}) failed: {result['error']}")
            step.refs.append(len(self.calls))
            self.calls.append(Call(name, arguments, sorted({u.ref for u in uses}) if uses else [], result, self.turn))
            observed.append(Obs(len(self.calls) - 1, result))
        if step.refs:
            self.steps.append(step)
        return observed

    def output(self, name: str, source: Obs, *path: str | int, label: str, where: str = "result",
               extract: str | None = None) -> Any:
        """Declare a value the turn's reply must report, with where it is read from (so a verifier can re-derive
        it). ``name`` is the machine key in ground truth; ``label`` is how the reasoning names it in words
        ("the owner of /projects/x/spec.txt").

        ``extract`` is "len" (length of the list at ``path``) or "field:<key>" (the value of a
        "<key>: value" line in the text at ``path``).
        """
        value: Any = self.calls[source.ref].arguments if where == "arguments" else source.data
        for key in path:
            value = value[key]
        if extract == "len":
            value = len(value)
        elif extract is not None:
            value = read_field(value, extract.removeprefix("field:"))
        taken = {o["name"] for o in self.outputs}
        unique, n = name, 2
        while unique in taken:
            unique, n = f"{name}_{n}", n + 1
        source_spec: dict[str, Any] = {"call": source.ref, "in": where, "path": list(path)}
        if extract is not None:
            source_spec["extract"] = extract
        self.outputs.append({"name": unique, "label": label, "value": value, "turn": self.turn, "source": source_spec})
        return value

    def repeats(self, name: str, arguments: dict[str, Any]) -> bool:
        """This call would just repeat the previous one (it would be skipped, see ``parallel``)."""
        return bool(self.calls) and self.calls[-1].name == name and self.calls[-1].arguments == arguments

    def mark(self) -> tuple[int, int, dict[str, Any]]:
        return len(self.calls), len(self.outputs), dict(self.handles)

    def rollback(self, mark: tuple[int, int, dict[str, Any]]) -> None:
        """Forget a piece that made no call (everything it asked was already observed just before)."""
        n_calls, n_outputs, handles = mark
        if len(self.calls) != n_calls:
            raise RuntimeError("cannot roll back a piece that made calls")
        del self.outputs[n_outputs:]
        self.handles = handles

    def remember(self, kind: str, value: Any, source: Obs, phrase: str) -> None:
        """Make an entity referable in later turns ("that ticket") without looking it up again."""
        self.handles[kind] = (value, source, self.turn, phrase)

    def recall(self, kind: str) -> tuple[Any, Obs, str] | None:
        """An entity remembered in an earlier turn, or None."""
        handle = self.handles.get(kind)
        if handle is None or handle[2] >= self.turn:
            return None
        return handle[0], handle[1], handle[3]

    def _inject(self, name: str, arguments: dict[str, Any], uses: tuple[Obs, ...]) -> InjectedError | None:
        for wrong, slip, key in wrong_variants(name, arguments, self.rng):
            result = self.sim.fork(TOOLS[name].backend).call(name, wrong)
            if "error" in result:
                self.error_at.pop(0)
                seen = any(_holds(u.data, arguments[key]) for u in uses)
                return InjectedError(wrong, result, _reflection(self.rng, result["error"], slip, noun(key),
                                                                _show(wrong[key]), _show(arguments[key]), seen))
        return None


def _reflection(rng: random.Random, error: str, slip: str, noun: str, wrong: str, right: str, seen: bool) -> str:
    """Why the call failed, in words that name the actual slip, the value sent and the right one; it says
    where the right value comes from only when an earlier observation really holds it."""
    source = ", as the earlier result shows" if seen else ""
    return rng.choice((
        f"That failed: {error}. I {slip}: I sent {wrong}, but the {noun} is {right}{source}. Retrying with it.",
        f"The call was refused ({error}) because I {slip}. The {noun} should be {right}{source}, not {wrong}; "
        "calling again.",
        f"Error: {error}. My mistake: I {slip}, so I sent {wrong} instead of {right}{source}. Trying again with {right}.",
    ))


def _holds(data: Any, value: Any) -> bool:
    """``value`` is somewhere in an observation: as a leaf, or inside a text (a "key: value" line)."""
    if isinstance(data, dict):
        return any(_holds(item, value) for item in data.values())
    if isinstance(data, list):
        return any(_holds(item, value) for item in data)
    if isinstance(data, str) and isinstance(value, str):
        return value in data
    return type(data) is type(value) and data == value  # True is not the quantity 1


def read_field(text: str, key: str) -> str:
    """The value of the first "key: value" line in a text."""
    for line in text.splitlines():
        name, sep, value = line.partition(": ")
        if sep and name == key:
            return value
    raise KeyError(f"no line {key!r}")


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


Template = Callable[[Session], Piece | None]  # returns None, before any call, when it does not apply


def needs(calls: int) -> Callable[[Template], Template]:
    """Declare the fewest calls a template makes, so it is not even tried with a smaller budget."""
    def mark(template: Template) -> Template:
        template.min_calls = calls  # type: ignore[attr-defined]
        return template
    return mark


def min_calls(template: Template) -> int:
    return getattr(template, "min_calls", 1)
