"""Small English helpers for requests and replies, so no text says "1 ticket(s)" or "a urgent ticket"."""

from __future__ import annotations

_IRREGULAR = {"entry": "entries", "is": "are", "was": "were", "has": "have"}


def plural(n: int, noun: str) -> str:
    """ "1 ticket", "3 tickets", "0 entries" """
    return f"{n} {noun if n == 1 else _IRREGULAR.get(noun, noun + 's')}"


def article(word: str) -> str:
    """ "an urgent", "a high" """
    return ("an " if word[:1].lower() in "aeiou" else "a ") + word


def listing(items: list[str]) -> str:
    """ "a", "a and b", "a, b and c" """
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
