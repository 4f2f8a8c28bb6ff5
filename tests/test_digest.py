"""Properties of the canonical form: what the digest ignores, what it never ignores, and the
strict loader under it.

The agreements come from `strategies.agreements()`: valid by construction, with tricky strings
("NO", "012345", "12:30", "2026-05-18", "1e5", unicode, `#`, `: `) in every free-text place.
"""

from __future__ import annotations

import math
import re
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import assume, example, given, note, settings
from hypothesis import strategies as st

from slaengine import ValidationResult, validate_folder
from slaengine.agreement.digest import canonical_content, digest, dump_agreement, to_yaml
from slaengine.agreement.loader import parse_yaml
from slaengine.agreement.models import AgreementSpec
from strategies import (
    TRICKY_STRINGS,
    Data,
    agreement_files,
    agreements,
    mutate_meaning,
    plain_yaml,
    render_yaml,
    respell,
    shuffle_keys,
    with_defaults,
    write_files,
)


def _validate(files: dict[str, str]) -> ValidationResult:
    with tempfile.TemporaryDirectory() as tmp:
        write_files(Path(tmp), files)
        return validate_folder(tmp)


def _report(result: ValidationResult) -> str:
    return "\n".join(d.format() for d in result.errors)


def _valid(files: dict[str, str]) -> tuple[AgreementSpec, str]:
    """The spec and digest of an agreement that must validate without errors."""
    result = _validate(files)
    assert result.errors == [], _report(result)
    assert result.structured is not None and result.digest is not None
    return result.structured.spec, result.digest


def _one_file(data: Data) -> dict[str, str]:
    return {"agreement.yaml": plain_yaml(data)}


# ---------------------------------------------------------------- a) generated agreements are valid


@settings(max_examples=100, deadline=None)
@given(agreements())
def test_generated_agreements_validate(data: Data) -> None:
    spec, content_digest = _valid(_one_file(data))
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", content_digest)
    assert content_digest == digest(spec)


# ---------------------------------------------------------------- b) canonical dump round trip


@settings(max_examples=80, deadline=None)
@given(agreements())
def test_canonical_dump_reloads_as_the_same_agreement(data: Data) -> None:
    spec, content_digest = _valid(_one_file(data))
    canonical = dump_agreement(spec)
    note(canonical)
    reloaded, reloaded_digest = _valid({"agreement.yaml": canonical})
    assert reloaded == spec
    assert reloaded_digest == content_digest
    assert dump_agreement(reloaded) == canonical  # the canonical form is a fixed point


_nested = st.recursive(
    st.one_of(st.sampled_from(TRICKY_STRINGS), st.text(), st.integers(), st.booleans(),
              st.floats(allow_nan=False, allow_infinity=False)),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=12)


@settings(max_examples=200, deadline=None)
@given(_nested)
@example({"k": "nel\x85"})
@example({"k": ["1e5", "12:30", "NO", " x ", "a: b # c"]})
def test_canonical_yaml_reads_back_as_the_same_data(value: Any) -> None:
    text = to_yaml({"k": value})
    assert parse_yaml(text, "f.yaml").data == {"k": value}, text


# ---------------------------------------------------------------- c) formatting does not matter


@settings(max_examples=100, deadline=None)
@given(agreements(), st.data())
def test_formatting_and_file_split_do_not_change_the_digest(data: Data, draw: st.DataObject) -> None:
    _, expected = _valid(_one_file(data))
    # Key order, equivalent spellings, quoting and collection styles, comments, file split.
    files = agreement_files(respell(shuffle_keys(data, draw.draw), draw.draw), draw.draw)
    for name, text in files.items():
        note(f"--- {name}\n{text}")
    _, actual = _valid(files)
    assert actual == expected


@settings(max_examples=40, deadline=None)
@given(agreements(), st.data())
def test_every_scalar_double_quoted_with_tags_gives_the_same_digest(
        data: Data, draw: st.DataObject) -> None:
    _, expected = _valid(_one_file(data))
    text = yaml.safe_dump(data, default_style='"', allow_unicode=draw.draw(st.booleans()))
    _, actual = _valid({"agreement.yaml": text})
    assert actual == expected


# ---------------------------------------------------------------- d) defaults written out


@settings(max_examples=60, deadline=None)
@given(agreements(), st.data())
def test_writing_out_defaults_does_not_change_the_digest(data: Data, draw: st.DataObject) -> None:
    spec, expected = _valid(_one_file(data))
    explicit, added = with_defaults(data, draw.draw)
    assume(added)
    note(f"defaults written out: {added}")
    explicit_spec, actual = _valid(_one_file(explicit))
    assert actual == expected
    assert canonical_content(explicit_spec) == canonical_content(spec)


def test_writing_out_defaults_example() -> None:
    base = {
        "agreement": "A", "version": "1.0.0", "timezone": "UTC",
        "parties": {"marketing": {"lead": {"name": "Dana"}}, "sales": {"lead": {"name": "Raj"}}},
        "fields": {"id": {"type": "string", "key": True}, "mql_at": {"type": "datetime"},
                   "stage": {"type": "string"}},
        "stages": [{"id": "lead", "owner": "marketing", "entered_at": "mql_at"}],
    }
    explicit = {**base, "review": {"every_months": 6}, "stage_field": "stage",
                "stages": [{"id": "lead", "owner": "marketing", "entered_at": "mql_at",
                            "terminal": False, "requires_disposition": False}],
                "definitions": {}, "scores": {}, "kpis": {}}
    assert _valid(_one_file(explicit))[1] == _valid(_one_file(base))[1]


# ---------------------------------------------------------------- e) any change of meaning shows


@settings(max_examples=120, deadline=None)
@given(agreements(), st.data())
def test_changing_a_value_changes_the_digest(data: Data, draw: st.DataObject) -> None:
    _, before = _valid(_one_file(data))
    mutation = mutate_meaning(data, draw.draw)
    assume(mutation is not None)
    assert mutation is not None
    changed, what = mutation
    note(what)
    result = _validate(_one_file(changed))
    assume(result.ok)  # e.g. a new value outside its field's enum, or an edge past a neighbour
    assert result.digest != before


def test_moving_a_band_edge_changes_the_digest() -> None:
    data: Data = {
        "agreement": "A", "version": "1.0.0", "timezone": "UTC",
        "parties": {"sales": {"lead": {"name": "Raj"}}},
        "fields": {"clicks": {"type": "integer"}},
        "scores": {"engagement": {
            "rules": [{"field": "clicks", "points_each": 5, "max": 20}],
            "bands": [{"label": "cold", "below": 40}, {"label": "hot", "from": 40}]}},
    }
    before = _valid(_one_file(data))[1]
    data["scores"]["engagement"]["bands"] = [{"label": "cold", "below": 41},
                                             {"label": "hot", "from": 41}]
    assert _valid(_one_file(data))[1] != before


# ---------------------------------------------------------------- f) the strict loader

_strings = st.one_of(st.sampled_from(TRICKY_STRINGS), st.text(), st.text(st.characters(
    whitelist_categories=("Nd", "Lu", "Ll", "Po", "Pd", "Zs")), max_size=12))
_scalars: st.SearchStrategy[Any] = st.one_of(
    st.none(), st.booleans(), st.integers(),
    st.floats(allow_nan=False, allow_infinity=False), _strings)


def _same(a: Any, b: Any) -> bool:
    """Equal, of the same type, and for floats of the same sign (-0.0 is not 0.0)."""
    if type(a) is not type(b) or a != b:
        return False
    return not isinstance(a, float) or math.copysign(1, a) == math.copysign(1, b)


@settings(max_examples=400, deadline=None)
@given(_scalars, st.booleans(), st.sampled_from((None, "'", '"')))
@example("1e5", False, None)
@example("1.5e3", False, None)
@example("012345", False, None)
@example("nel\x85", True, None)
@example("<<", False, None)
def test_safe_dump_output_loads_back_unchanged(value: Any, unicode: bool, style: str | None) -> None:
    text = yaml.safe_dump({"k": value}, allow_unicode=unicode, default_style=style)
    loaded = parse_yaml(text, "f.yaml")
    assert loaded.diagnostics == [], text
    assert isinstance(loaded.data, dict)
    expected = value
    if unicode and style != '"' and isinstance(value, str) and "\x85" in value:
        # PyYAML writes NEL raw in single quotes, and YAML reads that back as a folded line
        # break; the loader must then read what PyYAML itself reads.
        expected = yaml.safe_load(text)["k"]
    assert _same(loaded.data["k"], expected), text
    if isinstance(value, str) and expected == value:  # text as a mapping key stays text too
        as_key = yaml.safe_dump({value: 1}, allow_unicode=unicode, default_style=style)
        assert parse_yaml(as_key, "g.yaml").data == {value: 1}, as_key


@settings(max_examples=50, deadline=None)
@given(st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(_strings, inner, max_size=4)), max_leaves=20),
    st.data())
def test_any_styled_document_loads_back_unchanged(value: Any, draw: st.DataObject) -> None:
    text = render_yaml({"k": value}, draw.draw)
    loaded = parse_yaml(text, "f.yaml")
    assert loaded.diagnostics == [], text
    assert loaded.data == {"k": value}, text


_DIGITS = "0123456789"
# Number-like text as people write it: `[-+]digits[.digits][e[-+]digits]`, leading zeros too.
_NUMBER_TEXT = st.builds(
    "{}{}{}{}".format,
    st.sampled_from(("", "-", "+")),
    st.text(_DIGITS, min_size=1, max_size=5),
    st.one_of(st.just(""), st.text(_DIGITS, max_size=5).map(lambda f: "." + f)),
    st.one_of(st.just(""), st.builds("{}{}{}".format, st.sampled_from("eE"),
                                     st.sampled_from(("", "-", "+")),
                                     st.text(_DIGITS, min_size=1, max_size=4))))


@settings(max_examples=200, deadline=None)
@given(st.one_of(_NUMBER_TEXT, st.integers(4000, 6000).map(lambda n: "9" * n)))
@example("1.0e+400")
@example("-1.0e+400")
@example("9" * 5000)
def test_numbers_as_written_never_crash_or_overflow(text: str) -> None:
    loaded = parse_yaml(f"k: {text}\n", "f.yaml")
    if loaded.data is None:
        assert [d.code for d in loaded.diagnostics] == ["yaml-number"]
        return
    value = loaded.data["k"]
    if isinstance(value, float):
        assert math.isfinite(value)
        assert value == float(text)
    elif isinstance(value, int):
        assert value == int(text)
    else:
        assert value == text
        # Text stays text in the canonical dump too.
        assert parse_yaml(plain_yaml({"k": value}), "g.yaml").data == {"k": text}
