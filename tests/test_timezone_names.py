"""Only tz database names are timezones: `localtime` and the like are refused by `validate`.

zoneinfo opens any file under its search path: `localtime` is the zone of the computer that
runs slaengine (the same agreement, one digest, would give different verdicts on machines in
different zones), `posixrules` and `Factory` name no place, and a name in another case
(`europe/amsterdam`) resolves on a case-insensitive filesystem only.
"""

from __future__ import annotations

import re
import shutil
import zoneinfo
from pathlib import Path

import pytest
from click.testing import CliRunner

from slaengine.agreement.checks.clocks import NOT_ZONES, timezone_exists, timezone_names
from slaengine.cli import cli

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "agreement"
TODAY = "2026-11-25"


def validate(folder: Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["validate", str(folder), "--today", TODAY])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def with_timezone(tmp_path: Path, name: str, key: str = "timezone") -> tuple[Path, int]:
    """A copy of the example agreement with `key: name` in agreement.yaml; the line it is on."""
    folder = tmp_path / "agreement"
    shutil.copytree(EXAMPLE, folder)
    path = folder / "agreement.yaml"
    lines = path.read_text().splitlines(keepends=True)
    if key == "timezone":
        [index] = [i for i, line in enumerate(lines) if line.startswith("timezone:")]
        lines[index] = f'timezone: "{name}"\n'
    else:  # a calendar's own timezone, right under `calendars: business:`
        [index] = [i for i, line in enumerate(lines) if line == "  business:\n"]
        index += 1
        lines.insert(index, f'    timezone: "{name}"\n')
    path.write_text("".join(lines))
    return folder, index + 1


def test_the_example_agreement_still_validates() -> None:
    code, output = validate(EXAMPLE)
    assert code == 0, output
    assert "unknown-timezone" not in output


@pytest.mark.parametrize(("name", "message", "hint"), [
    ("localtime", "`localtime` is not a timezone name: it means the zone of whichever computer "
     "runs slaengine", "name the zone, such as `Europe/Amsterdam`"),
    ("posixrules", "`posixrules` is not a timezone name: it names no place's zone",
     "use a region/city name such as `Europe/Amsterdam`"),
    ("Factory", "`Factory` is not a timezone name: it names no place's zone",
     "use a region/city name such as `Europe/Amsterdam`"),
    ("europe/amsterdam", "unknown timezone `europe/amsterdam`",
     "write `Europe/Amsterdam`: capitals matter in timezone names"),
    ("utc", "unknown timezone `utc`", "write `UTC`: capitals matter in timezone names"),
    ("../../etc/localtime", "unknown timezone `../../etc/localtime`",
     "use a region/city name such as `Europe/Amsterdam`"),
    ("/etc/localtime", "unknown timezone `/etc/localtime`",
     "use a region/city name such as `Europe/Amsterdam`"),
    ("posix/Europe/Amsterdam", "unknown timezone `posix/Europe/Amsterdam`",
     "write `Europe/Amsterdam`"),
    ("Europe/Amsterdm", "unknown timezone `Europe/Amsterdm`", "write `Europe/Amsterdam`"),
])
@pytest.mark.parametrize("key", ["timezone", "calendar"])
def test_a_name_that_is_no_zone_is_refused_where_it_is_written(
        tmp_path: Path, name: str, message: str, hint: str, key: str) -> None:
    folder, line = with_timezone(tmp_path, name, key)
    code, output = validate(folder)
    assert code == 1, output
    found = re.search(rf"^{re.escape(str(folder / 'agreement.yaml'))}:(\d+):(\d+): error: "
                      rf"(.*) \[unknown-timezone\]\n    hint: (.*)$", output, re.M)
    assert found, output
    assert int(found.group(1)) == line
    assert found.group(3) == message
    assert found.group(4).startswith(hint)
    assert output.count("[unknown-timezone]") == 1


@pytest.mark.parametrize("name", ["UTC", "Etc/GMT+5", "Europe/Amsterdam", "America/New_York"])
def test_tz_database_names_are_accepted(tmp_path: Path, name: str) -> None:
    """`Etc/GMT+5` is five hours *behind* UTC (the tz database's POSIX sign), but it is a
    zone of the database and reads the same on every computer."""
    folder, _ = with_timezone(tmp_path, name)
    code, output = validate(folder)
    assert "unknown-timezone" not in output
    assert code == 0, output


def test_the_accepted_names_are_the_tz_database_keys_without_the_machine_specific_ones() -> None:
    names = timezone_names()
    assert names == frozenset(zoneinfo.available_timezones()) - NOT_ZONES
    assert not names & {"localtime", "posixrules", "Factory"}
    assert "Europe/Amsterdam" in names and "UTC" in names
    for name in ("localtime", "posixrules", "Factory", "europe/amsterdam", "../../etc/localtime",
                 "right/UTC", ""):
        assert not timezone_exists(name), name
