"""The strict loader: what YAML means, what it refuses, and where every value sits."""

from __future__ import annotations

from pathlib import Path

import pytest

from slaengine.agreement.diagnostics import Location, UsageError
from slaengine.agreement.loader import load_folder, parse_yaml, read_yaml_file


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NO", "NO"), ("yes", "yes"), ("on", "on"), ("Off", "Off"), ("y", "y"),
        ("012345", "012345"), ("12:30", "12:30"), ("2026-05-18", "2026-05-18"),
        ("2026-05-18T10:00:00Z", "2026-05-18T10:00:00Z"), ("0x1F", "0x1F"), ("1_000", "1_000"),
        (".inf", ".inf"), ("1,200", "1,200"), ("True", "True"), ("NULL", "NULL"),
        ("true", True), ("false", False), ("null", None), ("~", None), ("", None),
        ("0", 0), ("-12", -12), ("+7", 7), ("1.5", 1.5), ("1e3", "1e3"), ("-0.25", -0.25),
        ("1.0e-05", 1.0e-05),
    ],
)
def test_scalars_keep_their_written_meaning(text: str, expected: object) -> None:
    loaded = parse_yaml(f"value: {text}\n", "f.yaml")
    assert loaded.diagnostics == []
    assert loaded.data == {"value": expected}
    assert type(loaded.data["value"]) is type(expected)


def test_quoted_values_are_always_text() -> None:
    loaded = parse_yaml("a: 'true'\nb: \"12\"\nc: !!str 5\n", "f.yaml")
    assert loaded.data == {"a": "true", "b": "12", "c": "5"}


def test_duplicate_key_names_both_positions() -> None:
    loaded = parse_yaml("definitions:\n  mql: {when: 1}\n  sql: 2\n  mql: 3\n", "d.yaml")
    [diag] = loaded.diagnostics
    assert diag.code == "duplicate-key"
    assert diag.location == Location("d.yaml", 4, 3)
    assert diag.related == (Location("d.yaml", 2, 3),)
    assert "line 2, column 3" in diag.message
    assert loaded.data["definitions"]["mql"] == {"when": 1}  # the first one is kept


@pytest.mark.parametrize(
    ("text", "code", "line", "col"),
    [
        ("a: &base 1\nb: 2\n", "yaml-anchor", 1, 4),
        ("a: [1]\nb: *a\n", "yaml-alias", 2, 4),
        ("a: {<<: {b: 1}}\n", "yaml-merge-key", 1, 5),
        ("a: !!python/object:os.system x\n", "yaml-tag", 1, 4),
        ("a: !!int 0x10\n", "yaml-tag", 1, 4),
        ("a: [1, 2\n", "yaml-syntax", 2, 1),
        ("a: 1\n b: 2\n", "yaml-syntax", 2, 3),
        ("", "empty-file", 1, 1),
        ("# only a comment\n", "empty-file", 1, 1),
        ("- 1\n---\n- 2\n", "yaml-syntax", 2, 1),
    ],
)
def test_refused_yaml_is_one_located_diagnostic(text: str, code: str, line: int, col: int) -> None:
    loaded = parse_yaml(text, "bad.yaml")
    assert loaded.data is None
    [diag] = loaded.diagnostics
    assert (diag.code, diag.location) == (code, Location("bad.yaml", line, col))


def test_alias_to_defined_anchor_is_refused_at_the_anchor() -> None:
    loaded = parse_yaml("a: &x 1\nb: *x\n", "f.yaml")
    assert [d.code for d in loaded.diagnostics] == ["yaml-anchor"]


def test_positions_of_values_and_keys() -> None:
    text = "definitions:\n  mql:\n    when:\n      all:\n        - {field: a, eq: 1}\n"
    loaded = parse_yaml(text, "d.yaml")
    source = loaded.source
    assert source.values[("definitions", "mql", "when", "all", 0, "eq")] == Location("d.yaml", 5, 26)
    assert source.keys[("definitions", "mql")] == Location("d.yaml", 2, 3)
    # A path that was never written falls back on its nearest written ancestor.
    assert source.locate(("definitions", "mql", "when", "all", 0, "gt")) == Location(
        "d.yaml", 5, 11)


def test_binary_and_non_utf8_files(tmp_path: Path) -> None:
    binary = tmp_path / "logo.yaml"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    latin1 = tmp_path / "latin.yaml"
    latin1.write_bytes("name: Müller".encode("latin-1"))
    for path in (binary, latin1):
        [diag] = read_yaml_file(path).diagnostics
        assert diag.code == "unreadable-file"
        assert diag.location == Location(str(path), 1, 1)


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes("\ufeffname: Zoë\n".encode())
    assert read_yaml_file(path).data == {"name": "Zoë"}


def test_folder_merges_sections_reviews_and_tests(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("agreement: X\nversion: 1.0.0\n")
    (tmp_path / "b.yaml").write_text("timezone: UTC\n")
    (tmp_path / "reviews").mkdir()
    (tmp_path / "reviews" / "2026-01-01.yaml").write_text("date: 2026-01-01\n")
    (tmp_path / "reviews" / "2026-07-01.yaml").write_text("date: 2026-07-01\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "t.yaml").write_text("cases: []\n")
    (tmp_path / "notes.yml").write_text("x: 1\n")
    loaded = load_folder(tmp_path)
    assert loaded.data == {
        "agreement": "X", "version": "1.0.0", "timezone": "UTC",
        "reviews": [{"date": "2026-01-01"}, {"date": "2026-07-01"}],
        "tests": [{"cases": []}],
    }
    assert loaded.locate(("reviews", 1, "date")) == Location(
        str(tmp_path / "reviews" / "2026-07-01.yaml"), 1, 7)
    assert loaded.locate(("timezone",)) == Location(str(tmp_path / "b.yaml"), 1, 11)
    assert [d.code for d in loaded.diagnostics] == ["ignored-file"]


def test_section_in_two_files(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("fields:\n  id: {type: string}\n")
    (tmp_path / "b.yaml").write_text("# more\nfields:\n  x: {type: string}\n")
    loaded = load_folder(tmp_path)
    [diag] = loaded.diagnostics
    assert diag.code == "duplicate-section"
    assert diag.location == Location(str(tmp_path / "b.yaml"), 2, 1)
    assert "a.yaml:1:1" in diag.message
    # The first definition wins, and its positions are not overwritten by the second.
    assert loaded.data["fields"] == {"id": {"type": "string"}}
    assert loaded.locate(("fields", "id")) == Location(str(tmp_path / "a.yaml"), 2, 7)


def test_missing_or_wrong_folder_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not found"):
        load_folder(tmp_path / "nope")
    file = tmp_path / "agreement.yaml"
    file.write_text("a: 1\n")
    with pytest.raises(UsageError, match="not a folder"):
        load_folder(file)


def test_empty_folder_is_reported(tmp_path: Path) -> None:
    [diag] = load_folder(tmp_path).diagnostics
    assert diag.code == "no-agreement-files"
