"""Simple regular expressions are worded; others are shown with a gloss; the words are true."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slaengine.agreement.regex_words import GLOSS, pattern_text, regex_words


@pytest.mark.parametrize(("pattern", "words"), [
    (r"\.edu$", "ends with `.edu`"),
    (r"(?i)\b(intern|student|trainee)\b",
     "contains the word intern, student or trainee, in any letter case"),
    (r"^ACME", "starts with `ACME`"),
    (r"^(test|demo)$", "is exactly `test` or `demo`"),
    (r"gmail", "contains `gmail`"),
    (r"\bcto\b", "contains the word cto"),
])
def test_simple_patterns_are_worded(pattern: str, words: str) -> None:
    assert pattern_text(pattern) == words


@pytest.mark.parametrize("pattern", [r"^[A-Z]{2}-\d+$", r"a.b", r"\.(edu|ac\.uk)$", r"\bcto",
                                     r"x+", r"(?i)^a|b$"])
def test_other_patterns_are_shown_with_a_gloss(pattern: str) -> None:
    assert regex_words(pattern) is None
    assert pattern_text(pattern) == f"matches the pattern `{pattern}` ({GLOSS})"


_WORD = st.text(alphabet="abcxyz.-", min_size=1, max_size=6)


@given(st.lists(_WORD, min_size=1, max_size=3), st.sampled_from(["", "^", "$", "^$", "bb"]),
       st.booleans(), st.text(alphabet="abcxyzABC.- ", max_size=12))
def test_the_words_say_what_the_pattern_does(words: list[str], anchors: str, any_case: bool,
                                             value: str) -> None:
    """Build a simple pattern, read its words back, and check them against re.search."""
    body = "|".join(re.escape(w) for w in words)
    body = f"({body})" if len(words) > 1 else body
    start = "^" if anchors.startswith("^") else r"\b" if anchors == "bb" else ""
    end = "$" if anchors.endswith("$") else r"\b" if anchors == "bb" else ""
    pattern = ("(?i)" if any_case else "") + start + body + end
    text = regex_words(pattern)
    assert text is not None, pattern
    listed = list(words)
    found = re.search(pattern, value) is not None

    def fold(text: str) -> str:
        return text.lower() if any_case else text

    if text.startswith("is exactly"):
        assert found == any(fold(value) == fold(w) for w in listed)
    elif text.startswith("starts with"):
        assert found == any(fold(value).startswith(fold(w)) for w in listed)
    elif text.startswith("ends with"):
        assert found == any(fold(value).endswith(fold(w)) for w in listed)
    elif text.startswith("contains `"):
        assert found == any(fold(w) in fold(value) for w in listed)
    for w in listed:
        assert w in text
