"""`slaengine mapping check`: what each field reads from an export, run as the real command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "slaengine", *args], cwd=ROOT,
                          capture_output=True, text=True, check=False)


def row(stdout: str, field: str) -> list[str]:
    line = next(line for line in stdout.splitlines() if line.startswith(f"  {field} "))
    return line.split()


def test_hubspot_export_per_field() -> None:
    result = run("mapping", "check", "--leads", "examples/exports/hubspot-contacts.csv",
                 "--mapping", "examples/mappings/hubspot.yaml")
    assert result.returncode == 1  # three unreadable values, one not allowed
    lines = result.stdout.splitlines()
    assert lines[0] == ("examples/exports/hubspot-contacts.csv: 12 leads, read with "
                        "examples/mappings/hubspot.yaml")
    assert row(result.stdout, "employee_count")[:7] == [
        "employee_count", "Number", "of", "Employees", "10", "1", "1"]
    assert row(result.stdout, "seniority")[:6] == ["seniority", "Seniority", "12", "0", "0", "0"]
    assert "  campaign             campaign (not in the file)" in result.stdout
    assert ("  employee_count (Number of Employees): `50-100` is not a whole number (1 lead)"
            in lines)
    assert "  industry (Industry): `Software` (1)" in lines
    assert lines[-1] == ("columns no field reads: First Name, Last Name, Lifecycle Stage, "
                         "Lead Status")


def test_a_clean_file_exits_0_and_an_unmapped_one_2(tmp_path: Path) -> None:
    leads = tmp_path / "leads.csv"
    leads.write_text("lead_id,industry,employee_count\nA,software,120\nB,,\n")
    clean = run("mapping", "check", "--leads", str(leads))
    assert clean.returncode == 0, clean.stdout
    assert clean.stdout.splitlines()[0] == f"{leads}: 2 leads, read with the fields' own columns"
    assert row(clean.stdout, "industry")[:7] == ["industry", "industry", "1", "1", "0", "0",
                                                 "software"]
    other = tmp_path / "other.csv"
    other.write_text('"Lead ID","Employees"\n"A","3"\n')
    refused = run("mapping", "check", "--leads", str(other))
    assert refused.returncode == 2 and refused.stdout == ""
    assert "no column `lead_id` or `id` for the key field `id`; the file has `Lead ID`" in \
        refused.stderr


def test_a_report_with_its_mapping_reads_every_date() -> None:
    result = run("mapping", "check", "--leads", "examples/exports/salesforce-report-dmy.csv",
                 "--mapping", "examples/mappings/salesforce-report-dmy.yaml")
    assert result.returncode == 1
    assert row(result.stdout, "created_at")[:7] == ["created_at", "Create", "Date", "10", "0",
                                                    "0", "0"]
    assert ("  first_touch_at (First Touch): `12/11/2026 14:05` does not match the mapping's "
            "formats `%d/%m/%Y, %H:%M` or `%d/%m/%Y` (1 lead)") in result.stdout.splitlines()
