"""Segments: boolean tag expressions over a patient's tags, e.g. `diabetes:* and not risk:low`."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from fnmatch import fnmatchcase
from functools import lru_cache

# Tags are lower-case words with ':' separating facet and value (diabetes:t2, lang:es); '*' globs.
_TOKEN = re.compile(r"\s*(\(|\)|and\b|or\b|not\b|[A-Za-z0-9_.:*\-]+)")

Predicate = Callable[[frozenset[str]], bool]


class SegmentError(ValueError):
    """A tag expression that does not parse."""


def _tokens(text: str) -> list[str]:
    pos, out = 0, []
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise SegmentError(f"unexpected character at {pos} in segment {text!r}")
        out.append(match.group(1))
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


class _Parser:
    """Recursive descent: or_expr := and_expr ('or' and_expr)*; and_expr := unary ('and' unary)*."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.pos = 0

    def parse(self) -> Predicate:
        if not self.tokens:
            raise SegmentError("empty segment expression")
        pred = self._or()
        if self.pos != len(self.tokens):
            raise SegmentError(f"unexpected {self.tokens[self.pos]!r} in segment {self.text!r}")
        return pred

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _or(self) -> Predicate:
        parts = [self._and()]
        while self._peek() == "or":
            self.pos += 1
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else (lambda tags: any(p(tags) for p in parts))

    def _and(self) -> Predicate:
        parts = [self._unary()]
        while self._peek() == "and":
            self.pos += 1
            parts.append(self._unary())
        return parts[0] if len(parts) == 1 else (lambda tags: all(p(tags) for p in parts))

    def _unary(self) -> Predicate:
        token = self._peek()
        if token is None:
            raise SegmentError(f"segment {self.text!r} ends early")
        self.pos += 1
        if token == "not":
            inner = self._unary()
            return lambda tags: not inner(tags)
        if token == "(":
            inner = self._or()
            if self._peek() != ")":
                raise SegmentError(f"missing ')' in segment {self.text!r}")
            self.pos += 1
            return inner
        if token in (")", "and", "or"):
            raise SegmentError(f"unexpected {token!r} in segment {self.text!r}")
        if token == "*":
            return lambda tags: True
        pattern = token.lower()
        if "*" in pattern:
            return lambda tags: any(fnmatchcase(t, pattern) for t in tags)
        return lambda tags: pattern in tags


@lru_cache(maxsize=512)
def compile_segment(expression: str) -> Predicate:
    """Compile a tag expression once (`*` alone matches every patient)."""
    return _Parser(expression).parse()


def matches(expression: str | None, tags: Iterable[str]) -> bool:
    """True if a patient with these tags belongs to the segment (None = everyone)."""
    if expression is None:
        return True
    return compile_segment(expression)(frozenset(t.lower() for t in tags))


def validate_segment(expression: str) -> str:
    """A pydantic field validator body: the expression if it parses, else ValueError with the reason."""
    try:
        compile_segment(expression)
    except SegmentError as exc:
        raise ValueError(str(exc)) from exc
    return expression
