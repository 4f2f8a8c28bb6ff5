"""`--engine duckdb` on CSV files with an unusual header or shape, through the real CLI.

The Python engine reads every one of these files; `evaluate` and `kpis` on DuckDB must give
its output byte for byte, or refuse the file (exit 2) in plain words that point to
`--engine python`. Never an internal error (exit 3): a blank header cell once became an empty
SQL identifier (`zero-length delimited identifier`), a file without a header row once failed
to build its relation, and a header after blank lines, or over several lines, was read from
the first line. Also: JSON Lines keys that differ only in case from the fields' columns (a
JSON shape DuckDB refused), and the column an error names when a field is read from the
column named as the field.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from slaengine.cli import main

ROOT = Path(__file__).resolve().parent.parent
AGREEMENT = str(ROOT / "agreement")
NOW = "2026-11-20T10:00:00+01:00"
BOM = b"\xef\xbb\xbf"
LONG = "x" * 1500

# Files the Python engine reads (exit 0, or 1 for records with errors). `abc` in
# employee_count is a value error, so rows are seen to line up; a short row and a row with
# too many cells are records the Python reader reports, handed back to it by DuckDB.
READ: dict[str, bytes] = {
    "trailing_blank_name": b"id,email_domain,employee_count,industry,country,source,\n"
                           b"L-1,acme.de,100,software,DE,website,\n",
    "blank_name_inside": b"id,email_domain,,industry\nL-1,acme.de,100,software\n",
    "blank_names_repeated": b"id,,email_domain,,employee_count,\n"
                            b"L-1,x,acme.de,,abc,\nL-2,,b.de,y,5,z\nL-3,short\n",
    "blank_names_only_after_key": b"id,,\nL-1,,\nL-2,a,b\n",
    "empty": b"",
    "blank_lines_only": b"\n\n",
    "bom_only": BOM,
    "spaces_only_name": b"id,email_domain,   ,industry\nL-1,acme.de,100,software\n",
    "quoted_quote_in_name": b'id,email_domain,"a""b",industry\nL-1,acme.de,100,software\n',
    "bare_quote_in_name": b'id,email_domain,a"b,industry\nL-1,acme.de,100,software\n',
    "backslash_in_name": b"id,email_domain,a\\b,\\,industry\nL-1,acme.de,1,2,software\n",
    "newline_in_quoted_name": b'id,"email\ndomain",employee_count,industry\n'
                              b"L-1,x,abc,software\nL-2,y,5,software\nL-3\n",
    "crlf_in_quoted_name": b'\r\n\r\nid,"email\r\ndomain",employee_count\r\nL-1,x,abc\r\n'
                           b"L-2,y,5\r\n",
    "long_name": f"id,email_domain,{LONG},employee_count\nL-1,acme.de,1,abc\n".encode(),
    "keyword_names": b"id,select,from,order,group,email_domain,employee_count\n"
                     b"L-1,a,b,c,d,acme.de,abc\n",
    "case_only_unread_names": b"id,Notes,NOTES,notes,email_domain\nL-1,a,b,c,acme.de\n",
    "case_spelled_names": b"ID,EMAIL_DOMAIN,Employee_Count\nL-1,acme.de,abc\nL-2,b.de,7\n",
    "spaced_key_name": b" id ,email_domain\nL-1,acme.de\n",
    "internal_names": b"id,_row,_ROW,_bad,_BAD,ordinality,_c0,_x0,email_domain,employee_count\n"
                      b"L-1,1,2,3,4,5,6,7,acme.de,abc\nL-2,1,2,3,4,5,6,7,b.de,8\n",
    "header_only": b"id,email_domain,industry\n",
    "header_only_no_line_end": b"id,email_domain,industry",
    "one_row_no_line_end": b"id,email_domain,employee_count\nL-1,acme.de,abc",
    "blank_lines_before_header": b"\n\nid,email_domain,employee_count\n"
                                 b"L-1,acme.de,abc\n\nL-2,b.de,5,extra\nL-3,c.de,6\n",
    "bom_blank_line_then_header": BOM + b"\nid,email_domain,employee_count\nL-1,acme.de,abc\n",
    "space_line_before_header": b"  \nid,email_domain\nL-1,acme.de\n",
    "semicolons_with_blank_name": b"id;email_domain;;employee_count\nL-1;acme.de;x;abc\n",
}


def cli(capfdbinary: pytest.CaptureFixture[bytes], *args: str) -> tuple[int, bytes, bytes]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    captured = capfdbinary.readouterr()
    code = exit_info.value.code
    assert isinstance(code, int)
    return code, captured.out, captured.err


def both(capfdbinary: pytest.CaptureFixture[bytes], command: str, path: Path, *extra: str
         ) -> tuple[tuple[int, bytes, bytes], tuple[int, bytes, bytes]]:
    """(python, duckdb): exit code, stdout and stderr of the command on each engine."""
    common = [command, "--leads", str(path), "--agreement", AGREEMENT, "--now", NOW, *extra]
    if command == "evaluate":
        common += ["--jobs", "1"]
    return (cli(capfdbinary, *common, "--engine", "python"),
            cli(capfdbinary, *common, "--engine", "duckdb"))


def assert_same_or_refused(python: tuple[int, bytes, bytes],
                           duck: tuple[int, bytes, bytes]) -> None:
    """DuckDB gives the Python engine's exit code and bytes, or refuses the file (exit 2) in
    plain words that point to --engine python; never an internal error."""
    assert b"internal error" not in duck[2], duck[2].decode()
    if duck[0] == 2 and python[0] in (0, 1):
        assert b"--engine python" in duck[2], duck[2].decode()
        assert b"Error:" not in duck[2] and b"Exception" not in duck[2], duck[2].decode()
        return
    assert duck[0] == python[0], (duck[2].decode(), python[2].decode())
    assert duck[1] == python[1]


@pytest.fixture(params=sorted(READ))
def lead_file(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    path = tmp_path / f"{request.param}.csv"
    path.write_bytes(READ[request.param])
    return path


def test_evaluate_and_kpis_give_the_python_output(
        lead_file: Path, capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    python, duck = both(capfdbinary, "evaluate", lead_file)
    assert python[0] in (0, 1), python[2].decode()
    assert duck[0] == python[0], duck[2].decode()
    assert duck[1] == python[1]
    python, duck = both(capfdbinary, "kpis", lead_file, "--format", "json")
    assert python[0] == 0, python[2].decode()
    assert duck[0] == 0, duck[2].decode()
    assert duck[1] == python[1]
    assert duck[2] == python[2]  # the counts of records, with errors and unreadable


@pytest.mark.parametrize("name", ["trailing_blank_name", "blank_names_repeated", "empty",
                                  "newline_in_quoted_name", "blank_lines_before_header",
                                  "internal_names"])
def test_evaluate_csv_gives_the_python_lines(name: str, tmp_path: Path,
                                             capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    """`--format csv` on DuckDB is written by DuckDB itself: the same bytes too."""
    path = tmp_path / f"{name}.csv"
    path.write_bytes(READ[name])
    python, duck = both(capfdbinary, "evaluate", path, "--format", "csv")
    assert python[0] in (0, 1), python[2].decode()
    assert duck[0] == python[0], duck[2].decode()
    assert duck[1] == python[1]


def test_rows_after_a_header_over_several_lines_keep_their_numbers(
        tmp_path: Path, capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    """Blank lines and a quoted name over two lines before the first row: the unreadable
    rows DuckDB hands back to the Python reader are found by their numbers, which count from
    the header as the Python reader counts them."""
    path = tmp_path / "leads.csv"
    path.write_bytes(b'\n\nid,"email\ndomain",employee_count\n\nL-1,a,abc\nL-2,b\n'
                     b"L-3,c,1,extra\n\nL-4,d,4\n")
    python, duck = both(capfdbinary, "evaluate", path)
    assert python[0] == 1
    assert duck == (python[0], python[1], duck[2])
    rows = python[1].decode()
    assert "row 2 (line 7) has 2 cells" in rows and "row 3 (line 8) has 4 cells" in rows


def test_mapped_columns_with_unusual_names(tmp_path: Path,
                                           capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    """Columns the fields read, named as SQL keywords, with a quote, a backslash, a line
    break or 1,500 characters: quoted identifiers DuckDB reads as the Python engine does."""
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        'id: "select"\nemail_domain: "a\\"b\\\\c"\nemployee_count: "from"\n'
        f'industry: "{LONG}"\ncountry: "order\\nby"\ncompany: " Company "\n', encoding="utf-8")
    header = '"select","a""b\\c",from,' + LONG + ',"order\nby", Company ,,id'
    path = tmp_path / "leads.csv"
    path.write_text(f"{header}\nL-1,acme.de,abc,software,DE,Acme,,X-1\n"
                    "L-2,b.de,5,retail,FR,,z,X-2\n", encoding="utf-8")
    for command, extra in (("evaluate", ()), ("evaluate", ("--format", "csv")),
                           ("kpis", ("--format", "json"))):
        python, duck = both(capfdbinary, command, path, "--mapping", str(mapping), *extra)
        assert python[0] in (0, 1), python[2].decode()
        assert_same_or_refused(python, duck)
        assert duck[0] == python[0]  # read, not refused


@pytest.mark.parametrize("header", ["id,Email_Domain,email_domain", "id,email_domain,EMAIL_DOMAIN"])
def test_read_columns_differing_only_in_case(header: str, tmp_path: Path,
                                             capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    """Two columns the fields read whose names differ only in case are one column to
    DuckDB: the duckdb engine never reads one for the other; it refuses the file in plain
    words when the Python engine reads it."""
    path = tmp_path / "leads.csv"
    path.write_text(f"{header}\nL-1,upper.de,lower.de\n", encoding="utf-8")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(f"company: {header.split(',')[1]}\n", encoding="utf-8")
    for extra in ((), ("--mapping", str(mapping))):
        for command in ("evaluate", "kpis"):
            python, duck = both(capfdbinary, command, path, *extra)
            assert_same_or_refused(python, duck)
            assert duck[0] in (0, 1, 2)


def _jsonl(*records: str) -> bytes:
    return "".join(f"{r}\n" for r in records).encode()


# JSON Lines whose keys differ only in case from the columns the fields read, which DuckDB
# takes for one name: the duckdb engine once failed on them ("Duplicate keys in object").
JSONL: dict[str, tuple[bytes, str | None]] = {
    # Keys spelled otherwise than the fields: read under the file's spelling, `ID` for `id`.
    "capitalised_keys": (_jsonl(
        '{"ID":"L-1","Email_Domain":"a.de","Employee_Count":"x"}',
        '{"ID":"L-2","Email_Domain":"b.de","Employee_Count":7}'), None),
    # ... and after the first hundred records, the field's own name as well (read when the
    # file's spelling is absent, as the Python coercer falls back to it).
    "own_name_later": (_jsonl(
        *(f'{{"ID":"L-{i}","Employee_Count":{i}}}' for i in range(1, 102)),
        '{"id":"L-102","Employee_Count":"q"}', '{"ID":"L-103","id":"L-103b"}',
        '{"ID":null,"id":"L-104"}'), None),
    # A mapping whose column differs only in case from the field's name.
    "mapped_case_variant": (_jsonl(
        '{"id":"L-1","EMPLOYEE_COUNT":"abc","employee_count":"5"}',
        '{"id":"L-2","employee_count":"y"}', '{"id":"L-3","EMPLOYEE_COUNT":null,'
        '"employee_count":"z"}', '{"id":"L-4","Employee_Count":"w"}'),
        "employee_count: EMPLOYEE_COUNT\n"),
}


@pytest.mark.parametrize("name", sorted(JSONL))
def test_jsonl_keys_differing_only_in_case(name: str, tmp_path: Path,
                                           capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    content, mapping_text = JSONL[name]
    path = tmp_path / f"{name}.jsonl"
    path.write_bytes(content)
    extra: tuple[str, ...] = ()
    if mapping_text is not None:
        mapping = tmp_path / "mapping.yaml"
        mapping.write_text(mapping_text, encoding="utf-8")
        extra = ("--mapping", str(mapping))
    python, duck = both(capfdbinary, "evaluate", path, *extra)
    assert python[0] in (0, 1), python[2].decode()
    assert duck[0] == python[0], duck[2].decode()
    assert duck[1] == python[1]
    python, duck = both(capfdbinary, "kpis", path, "--format", "json", *extra)
    assert python[0] == 0, python[2].decode()
    assert duck[0] == 0, duck[2].decode()
    assert duck[1] == python[1]


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_an_error_names_the_column_the_value_was_read_from(
        fmt: str, tmp_path: Path, capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    """A mapping names a column the file lacks: the field is read from the column named as
    the field, and a bad value's error names that column, as the Python engine does."""
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("employee_count: Employees\n", encoding="utf-8")
    path = tmp_path / "leads.csv"
    path.write_bytes(b"id,employee_count,email_domain\nL-1,abc,a.de\nL-2,7,b.de\n")
    python, duck = both(capfdbinary, "evaluate", path, "--mapping", str(mapping),
                        "--format", fmt)
    assert python[0] == 1, python[2].decode()
    assert b"column employee_count:" in python[1] or b'"column":"employee_count"' in python[1]
    assert duck[0] == python[0], duck[2].decode()
    assert duck[1] == python[1]
