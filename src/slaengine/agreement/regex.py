"""`matches` patterns (Python `re` syntax) rewritten for each regex engine, RE2 first.

The Python engine runs the `re2` rewriting too (google-re2), as DuckDB does: a search takes
time linear in the value's length whatever the pattern, and both engines run the same text.

A pattern is parsed with Python's own parser, then written out node by node. Python's
character classes (`\\d`, `\\w`, `\\s`, and what `\\b` looks at) are Unicode-aware; engines
differ (RE2 and Java treat `\\w` as ASCII, Postgres asks the locale), so every class is
written as explicit code-point ranges computed from Python's own `re`: the engine then
matches exactly the characters Python does. What an engine cannot say exactly is refused
with `Unsupported`, naming the construct: no pattern is approximated.

Flavors: `re2` (DuckDB, BigQuery), `java` (Spark), `are` (Postgres advanced regular
expressions), `ere` (Snowflake: POSIX extended, no lazy quantifiers, no lookaround).

`matches` is a search (anywhere in the value), so a `\\b` at the very start or end of a
pattern can be written as "start of text or a non-word character" (and so on): consuming
one more character never changes whether a search finds a match.
"""

from __future__ import annotations

import re
import re._constants as C  # type: ignore[import-not-found]
import re._parser as P  # type: ignore[import-not-found]
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from .charsets import _CATEGORIES, Ranges, _complement, _normalise, category_ranges
from .diagnostics import UsageError


class Unsupported(UsageError):
    """A construct the chosen dialect (or SQL in general) cannot express with the same
    meaning as the Python engine; `construct` names it as the agreement writes it."""

    def __init__(self, construct: str, why: str, dialect: str | None = None):
        self.construct, self.why, self.dialect = construct, why, dialect
        super().__init__(self._text())

    def _text(self) -> str:
        where = f"{self.dialect}: " if self.dialect else ""
        return f"{where}cannot compile {self.construct} to SQL: {self.why}"

    def in_dialect(self, dialect: str) -> Unsupported:
        """The same refusal, naming the dialect it happened in."""
        return Unsupported(self.construct, self.why, dialect)


FLAVORS: Final = ("re2", "java", "are", "ere")
_MAX_REPEAT: Final = {"re2": 1000, "java": 100_000, "are": 255, "ere": 255}

# Context of a position: what the neighbouring character is known to be.
WORD, NONWORD, MIXED, HEAD, TAIL = "word", "nonword", "mixed", "head", "tail"


@dataclass(frozen=True)
class Translated:
    """A pattern in the engine's syntax; `ignore_case` is set when the engine takes case
    insensitivity as a separate argument (Snowflake) rather than inside the pattern."""

    pattern: str
    ignore_case: bool = False
    matches_everything: bool = False


# ---------------------------------------------------------------- the writer


# Python's case-insensitive matching takes i, I, İ (dotted capital) and ı (dotless small) as
# one letter; Unicode's simple case folding, which RE2, Java and PostgreSQL follow, keeps the
# Turkish two apart. Under `(?i)` these four are written out as a class of their own.
_DOTTED_I: Ranges = ((0x49, 0x49), (0x69, 0x69), (0x130, 0x131))


def _meets(ranges: Ranges, other: Ranges) -> bool:
    return any(lo <= b and a <= hi for lo, hi in ranges for a, b in other)


class _Writer:
    def __init__(self, flavor: str, pattern: str):
        self.flavor, self.source = flavor, pattern

    def refuse(self, construct: str, why: str) -> Unsupported:
        return Unsupported(f"`{construct}` in the pattern `{self.source}`", why)

    # -- characters

    def char(self, code: int, in_class: bool = False) -> str:
        ch = chr(code)
        if (ch.isascii() and ch.isalnum()) or ch in " _":
            return ch
        printable = ch.isascii() and ch.isprintable()
        if self.flavor == "ere":
            if not printable or (in_class and ch in "\\[]^-"):
                raise self.refuse(_shown(code), "Snowflake's regular expressions are given "
                                  "only printable ASCII characters here (and no `\\[]^-` "
                                  "inside a class)")
            return ch if in_class else "\\" + ch
        if printable:
            return "\\" + ch
        if self.flavor == "are":
            return f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}"
        return f"\\x{{{code:X}}}"

    def char_class(self, ranges: Ranges) -> str:
        if not ranges:
            return self.never()
        negated = _complement(ranges)
        body, prefix = (negated, "^") if 0 < len(negated) < len(ranges) else (ranges, "")
        if not body:  # every character, newlines included
            return "." if self.flavor in ("are", "ere") else "[\\x{0}-\\x{10FFFF}]"
        parts = []
        for lo, hi in body:
            if lo == hi:
                parts.append(self.char(lo, True))
            elif hi == lo + 1:
                parts.append(self.char(lo, True) + self.char(hi, True))
            else:
                parts.append(f"{self.char(lo, True)}-{self.char(hi, True)}")
        return "[" + prefix + "".join(parts) + "]"

    def never(self) -> str:
        """A pattern that matches nothing."""
        if self.flavor == "ere":
            raise self.refuse("a class that matches no character",
                              "Snowflake has no way to write it")
        return "[^\\x{1}-\\x{10FFFF}]" if self.flavor != "are" else "[^\\u0001-\\U0010FFFF]"

    def set_of(self, items: Sequence[tuple[Any, Any]], flags: int) -> Ranges:
        """The code points of an `[...]` class (Python's meaning, before case folding)."""
        ranges: list[tuple[int, int]] = []
        negate = False
        for op, av in items:
            if op is C.NEGATE:
                negate = True
            elif op is C.LITERAL:
                ranges.append((av, av))
            elif op is C.RANGE:
                ranges.append(av)
            elif op is C.CATEGORY:
                ranges.extend(self.category(av, flags))
            else:
                raise self.refuse(str(op).lower(), "no engine here can say it exactly")
        found = _normalise(ranges)
        if flags & re.IGNORECASE and self.flavor != "ere" and _meets(found, _DOTTED_I):
            found = _normalise([*found, *_DOTTED_I])
        return _complement(found) if negate else found

    def category(self, category: Any, flags: int) -> Ranges:
        if category not in _CATEGORIES:
            raise self.refuse(str(category).lower(), "no engine here can say it exactly")
        name, negated = _CATEGORIES[category]
        if self.flavor == "ere":
            raise self.refuse(f"\\{name[0]}", "Snowflake's classes are ASCII-only while "
                              "Python's are Unicode")
        found = category_ranges(name, bool(flags & re.ASCII))
        return _complement(found) if negated else found

    def word(self, flags: int) -> Ranges:
        return category_ranges("word", bool(flags & re.ASCII))

    # -- structure

    def group(self, body: str) -> str:
        return f"({body})" if self.flavor == "ere" else f"(?:{body})"

    def sequence(self, items: Sequence[tuple[Any, Any]], flags: int, before: str,
                 after: str) -> str:
        out = []
        for i, item in enumerate(items):
            b = _last_kind(items[:i], flags, self, before)
            a = _first_kind(items[i + 1:], flags, self, after)
            out.append(self.node(item, flags, b, a))
        return "".join(out)

    def node(self, item: tuple[Any, Any], flags: int, before: str, after: str) -> str:
        op, av = item
        if op is C.LITERAL:
            if flags & re.IGNORECASE and self.flavor != "ere" and _meets(((av, av),), _DOTTED_I):
                return self.char_class(_DOTTED_I)
            return self.char(av)
        if op is C.NOT_LITERAL:
            if flags & re.IGNORECASE and self.flavor != "ere" and _meets(((av, av),), _DOTTED_I):
                return self.char_class(_complement(_DOTTED_I))
            return self.char_class(_complement(((av, av),)))
        if op is C.ANY:
            if flags & re.DOTALL:
                return "." if self.flavor in ("are", "ere") else "[\\x{0}-\\x{10FFFF}]"
            return self.char_class(_complement(((10, 10),))) if self.flavor != "ere" \
                else "[^\n]"
        if op is C.IN:
            return self.char_class(self.set_of(av, flags))
        if op is C.BRANCH:
            return self.group("|".join(self.sequence(alt, flags, before, after)
                                       for alt in av[1]))
        if op is C.SUBPATTERN:
            _, add, remove, body = av
            inner = (flags | add) & ~remove
            text = self.sequence(list(body), inner, before, after)
            return self.scoped(text, flags, inner)
        if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            return self.repeat(op, av, flags)
        if op is C.AT:
            return self.anchor(av, flags, before, after)
        if op in (C.ASSERT, C.ASSERT_NOT):
            return self.lookaround(op, av, flags)
        if op is C.ATOMIC_GROUP:
            if self.flavor != "java":
                raise self.refuse("(?>...)", "an atomic group needs backtracking control")
            return f"(?>{self.sequence(list(av), flags, MIXED, MIXED)})"
        names = {C.GROUPREF: "a back reference", C.GROUPREF_EXISTS: "(?(group)...)"}
        raise self.refuse(names.get(op, str(op).lower()), "no engine here can say it exactly")

    def scoped(self, text: str, outer: int, inner: int) -> str:
        if (outer ^ inner) & re.IGNORECASE:
            if self.flavor == "re2":
                return f"(?{'i' if inner & re.IGNORECASE else '-i'}:{text})"
            if self.flavor == "java":
                return f"(?{'iu' if inner & re.IGNORECASE else '-iu'}:{text})"
            raise self.refuse("(?i:...)", "the engine takes case-insensitivity only for the "
                              "whole pattern")
        return self.group(text)

    def repeat(self, op: Any, av: Any, flags: int) -> str:
        low, high, body = av
        limit = _MAX_REPEAT[self.flavor]
        if low > limit or (high is not C.MAXREPEAT and high > limit):
            raise self.refuse(f"{{{low},{high}}}", f"the engine repeats at most {limit} times")
        inner = self.sequence(list(body), flags, MIXED, MIXED)
        atom = inner if _is_atom(body) else self.group(inner)
        if high is C.MAXREPEAT:
            count = {0: "*", 1: "+"}.get(low, f"{{{low},}}")
        elif (low, high) == (0, 1):
            count = "?"
        else:
            count = f"{{{low}}}" if low == high else f"{{{low},{high}}}"
        if op is C.MIN_REPEAT:
            if self.flavor == "ere":
                raise self.refuse(f"{count}?", "Snowflake has no lazy quantifiers")
            count += "?"
        elif op is C.POSSESSIVE_REPEAT:
            if self.flavor != "java":
                raise self.refuse(f"{count}+", "a possessive quantifier needs backtracking "
                                  "control")
            count += "+"
        return atom + count

    def lookaround(self, op: Any, av: Any, flags: int) -> str:
        direction, body = av
        if self.flavor in ("re2", "ere"):
            raise self.refuse("a lookahead or lookbehind",
                              "the engine has no lookaround (RE2 and POSIX patterns)")
        behind = "<" if direction < 0 else ""
        sign = "=" if op is C.ASSERT else "!"
        return f"(?{behind}{sign}{self.sequence(list(body), flags, MIXED, MIXED)})"

    def anchor(self, at: Any, flags: int, before: str, after: str) -> str:
        multiline = bool(flags & re.MULTILINE)
        if at is C.AT_BEGINNING_STRING or (at is C.AT_BEGINNING and not multiline):
            return {"re2": "\\A", "java": "\\A", "are": "\\A", "ere": "^"}[self.flavor]
        if at is C.AT_BEGINNING:
            if self.flavor == "re2":
                return "(?m:^)"
            if self.flavor == "java":
                return "(?:\\A|(?<=\\n))"
            raise self.refuse("^ with (?m)", "the engine has no multi-line `^` like Python's")
        if at is C.AT_END_STRING:
            return {"re2": "\\z", "java": "\\z", "are": "\\Z", "ere": "$"}[self.flavor]
        if at is C.AT_END:
            if multiline:
                if self.flavor == "re2":
                    return "(?m:$)"
                if self.flavor == "java":
                    return "(?=\\n|\\z)"
                raise self.refuse("$ with (?m)", "the engine has no multi-line `$` like Python's")
            if after != TAIL:
                raise self.refuse("$ followed by more pattern",
                                  "only a `$` that ends the pattern can be written exactly")
            # Python's `$` also matches before a final newline; at the end of a search
            # pattern, consuming that newline is the same.
            end = {"re2": "\\z", "java": "\\z", "are": "\\Z", "ere": "$"}[self.flavor]
            newline = "\n" if self.flavor == "ere" else "\\n"
            return self.group(f"{newline}?{end}") if self.flavor != "ere" else f"({newline})?$"
        if at in (C.AT_BOUNDARY, C.AT_NON_BOUNDARY):
            return self.boundary(at is C.AT_BOUNDARY, flags, before, after)
        raise self.refuse(str(at).lower(), "no engine here can say it exactly")

    def boundary(self, positive: bool, flags: int, before: str, after: str) -> str:
        if self.flavor == "ere":
            raise self.refuse("\\b" if positive else "\\B", "Snowflake's word boundaries "
                              "know only ASCII word characters while Python's are Unicode")
        word = self.word(flags)
        is_word, not_word = self.char_class(word), self.char_class(_complement(word))
        start = {"re2": "\\A", "java": "\\A", "are": "\\A", "ere": "^"}[self.flavor]
        end = {"re2": "\\z", "java": "\\z", "are": "\\Z", "ere": "$"}[self.flavor]
        # What must hold on the side the pattern does not pin down, to be (or not be) a
        # boundary next to a character known to be a word (or non-word) character.
        edge = {(True, WORD): "other", (True, NONWORD): "word", (False, WORD): "word",
                (False, NONWORD): "other"}
        if before in (WORD, NONWORD) and after in (WORD, NONWORD):
            return "" if (before != after) == positive else self.never()
        if before == HEAD and after in (WORD, NONWORD):
            need = edge[positive, after]
            return is_word if need == "word" else self.group(f"{start}|{not_word}")
        if after == TAIL and before in (WORD, NONWORD):
            need = edge[positive, before]
            return is_word if need == "word" else self.group(f"{not_word}|{end}")
        if before == HEAD and after == TAIL and positive:
            return is_word  # a boundary somewhere: the value has a word character
        raise self.refuse("\\b" if positive else "\\B",
                          "a word boundary is written exactly only between characters known "
                          "to be word or non-word characters, or at the pattern's ends")


def _is_atom(body: Any) -> bool:
    items = list(body)
    return len(items) == 1 and items[0][0] in (C.LITERAL, C.NOT_LITERAL, C.ANY, C.IN)


def _shown(code: int) -> str:
    ch = chr(code)
    return ch if ch.isprintable() else f"\\x{{{code:x}}}"


# ---------------------------------------------------------------- what a position sees


def _kind_of_set(ranges: Ranges, word: Ranges) -> str:
    if not ranges:
        return MIXED
    inside = all(any(w_lo <= lo and hi <= w_hi for w_lo, w_hi in word) for lo, hi in ranges)
    if inside:
        return WORD
    outside = all(hi < w_lo or lo > w_hi for lo, hi in ranges for w_lo, w_hi in word)
    return NONWORD if outside else MIXED


def _char_kinds(item: tuple[Any, Any], flags: int, writer: _Writer, first: bool,
                context: str) -> str | None:
    """The kind of the first (or last) character an item consumes; None when it consumes
    nothing (an anchor), MIXED when it may consume nothing or either kind."""
    op, av = item
    word = writer.word(flags)
    if op is C.LITERAL:
        return _kind_of_set(((av, av),), word)
    if op is C.IN:
        try:
            return _kind_of_set(writer.set_of(av, flags), word)
        except Unsupported:
            return MIXED
    if op in (C.NOT_LITERAL, C.ANY):
        return MIXED
    if op is C.AT:
        return None
    if op is C.SUBPATTERN:
        _, add, remove, body = av
        inner = (flags | add) & ~remove
        body = list(body)
        return _first_kind(body, inner, writer, context) if first else \
            _last_kind(body, inner, writer, context)
    if op is C.BRANCH:
        kinds = {(_first_kind(alt, flags, writer, context) if first
                  else _last_kind(alt, flags, writer, context)) for alt in av[1]}
        return kinds.pop() if len(kinds) == 1 else MIXED
    if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
        low, _, body = av
        if low == 0:
            return MIXED
        body = list(body)
        return _first_kind(body, flags, writer, MIXED) if first else \
            _last_kind(body, flags, writer, MIXED)
    return MIXED


def _first_kind(items: Sequence[tuple[Any, Any]], flags: int, writer: _Writer,
                after: str) -> str:
    for item in items:
        kind = _char_kinds(item, flags, writer, True, after)
        if kind is not None:
            return kind
    return after


def _last_kind(items: Sequence[tuple[Any, Any]], flags: int, writer: _Writer,
               before: str) -> str:
    for item in reversed(items):
        kind = _char_kinds(item, flags, writer, False, before)
        if kind is not None:
            return kind
    return before


# ---------------------------------------------------------------- entry point


def translate(pattern: str, flavor: str) -> Translated:
    """`pattern` (Python `re`, searched anywhere in the value) for the engine `flavor`."""
    if flavor not in FLAVORS:
        raise ValueError(f"unknown regex flavor {flavor!r}")
    parsed = P.parse(pattern)
    flags = parsed.state.flags
    writer = _Writer(flavor, pattern)
    body = writer.sequence(list(parsed), flags, HEAD, TAIL)
    if not body:
        return Translated("", matches_everything=True)
    if flags & re.IGNORECASE:
        if flavor == "re2":
            return Translated("(?i)" + body)
        if flavor == "java":
            return Translated("(?iu)" + body)
        if flavor == "are":
            return Translated("(?i)" + body)
        return Translated(body, ignore_case=True)
    return Translated(body)
