"""Text hygiene for generated records: the slips that templates make and a model would learn to copy.

Templates filled with entity names go wrong in a few mechanical ways ("Announce the the Fern meal kit
launch", a slot left empty before a full stop, a quote never closed). Node texts and answers are
copied verbatim by the model, so ``record_problems`` checks what a solver sees and produces, in any
family, and the family tests ask for none.

Doubled words are reported without a whitelist: legitimate doubles ("that that", "had had") are rare
in English and absent from the templates, so a hit is a template bug; reword the template instead.
Only lines are inspected for doubles and dangling articles (a list item's last word and the next
item's first may repeat) and only whole words count ("sku SKU-174" names an identifier); list
enumerators such as "1)" do not count as unbalanced brackets, unless a parenthesis is open for them to
close ("a list (threshold 5) in").
"""

from __future__ import annotations

import re
from typing import Any

Problem = tuple[str, str]  # (kind, excerpt)
KINDS: tuple[str, ...] = ("doubled_word", "dangling_article", "unbalanced_quotes", "unbalanced_brackets",
                          "double_space", "space_before_punctuation")

_DOUBLED = re.compile(r"\b(\w+)[ \t]+\1\b", re.IGNORECASE)  # then kept only for whole words of letters
# lower case and a real stop after it: "Plan A." and "9 a.m." are fine
_DANGLING = re.compile(r"\b(?:a|an|the)[ \t]*(?:[.,;:!?](?=\s|$)|$)", re.MULTILINE)
_DOUBLE_SPACE = re.compile(r"\S {2,}\S")  # indentation is not a double space
_SPACE_BEFORE = re.compile(r"\S[ \t]+[,;:!?.](?=\s|$)")  # "files ending in .txt" and " ..." are fine
_BRACKET = re.compile(r"[()\[\]{}]")
_ENUMERATOR = re.compile(r"(?:^|\s)(?:\d{1,3}|[A-Za-z])\Z")  # what precedes the ")" of "1) " or "b) "
_PAIRS = {")": "(", "]": "[", "}": "{"}


def text_problems(text: str) -> list[Problem]:
    """Every hygiene problem in ``text``, in the order of ``KINDS``; an empty list for clean text."""
    problems: list[Problem] = [
        ("doubled_word", _excerpt(text, m.start(), m.end())) for m in _DOUBLED.finditer(text)
        if m.group(1).isalpha() and not _glued(text, m.start() - 1) and not _glued(text, m.end())]
    problems += [("dangling_article", _excerpt(text, m.start(), m.end())) for m in _DANGLING.finditer(text)]
    straight, opening, closing = text.count('"'), text.count("\u201c"), text.count("\u201d")
    if straight % 2 or opening != closing:
        problems.append(("unbalanced_quotes", f"{straight} straight quotes, {opening} opening and {closing} closing"))
    where = _unbalanced_bracket(text)
    if where is not None:
        problems.append(("unbalanced_brackets", _excerpt(text, where, where + 1)))
    if "  " in text:  # a cheap test first: most texts have no run of spaces at all
        problems += [("double_space", _excerpt(text, m.start(), m.end())) for m in _DOUBLE_SPACE.finditer(text)]
    problems += [("space_before_punctuation", _excerpt(text, m.start(), m.end())) for m in _SPACE_BEFORE.finditer(text)]
    return problems


def record_problems(record: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(field, kind, excerpt) for every problem in the texts a solver sees or the model is trained to write.

    That is every string in ``task`` (instruction, offered actions, tool descriptions, initial state),
    the content and think of each trajectory message, and the answer. ``ground_truth`` is never shown,
    and ``text`` only repeats instruction and answer. A text found in several fields (the instruction
    is also the user message) is checked once and reported under the first.
    """
    fields: list[tuple[str, str]] = list(_strings(record.get("task"), "task"))
    trajectory = record.get("trajectory")
    for k, message in enumerate(trajectory if isinstance(trajectory, list) else []):
        if isinstance(message, dict):
            fields += [(f"trajectory[{k}].{key}", message[key]) for key in ("content", "think")
                       if isinstance(message.get(key), str)]
    if isinstance(record.get("answer"), str):
        fields.append(("answer", record["answer"]))
    first: dict[str, str] = {}
    for where, text in fields:
        first.setdefault(text, where)
    return [(where, kind, excerpt) for text, where in first.items() for kind, excerpt in text_problems(text)]


def _strings(value: Any, where: str) -> list[tuple[str, str]]:
    if isinstance(value, str):
        return [(where, value)]
    if isinstance(value, dict):
        return [item for key, child in value.items() for item in _strings(child, f"{where}.{key}")]
    if isinstance(value, list):
        return [item for k, child in enumerate(value) for item in _strings(child, f"{where}[{k}]")]
    return []


def _unbalanced_bracket(text: str) -> int | None:
    """Offset of the first bracket that is never closed or closes nothing (enumerators aside), or None."""
    stack: list[tuple[str, int]] = []
    for match in _BRACKET.finditer(text):
        char, offset = match.group(), match.start()
        if char in "([{":
            stack.append((char, offset))
        elif (char == ")" and text[offset + 1:offset + 2].isspace() and _ENUMERATOR.search(text, offset - 4, offset)
              and not (stack and stack[-1][0] == "(")):  # "(threshold 5) in" closes its parenthesis
            continue
        elif not stack or stack[-1][0] != _PAIRS[char]:
            return offset
        else:
            stack.pop()
    return stack[0][1] if stack else None


def _excerpt(text: str, start: int, end: int, margin: int = 25) -> str:
    return repr(text[max(0, start - margin):end + margin])


def _glued(text: str, at: int) -> bool:
    """Whether the character at ``at`` makes a word part of a longer token, as in "sku SKU-174"."""
    return 0 <= at < len(text) and text[at] in "-'"
