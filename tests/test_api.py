"""The public Python contract: what `import slaengine` offers and how it behaves."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

import slaengine
from slaengine.agreement.diagnostics import Location

ROOT = Path(__file__).resolve().parents[1]


def test_all_lists_every_public_name() -> None:
    public = {name for name in vars(slaengine) if not name.startswith("_")}
    modules = {name for name in public if inspect.ismodule(getattr(slaengine, name))}
    assert set(slaengine.__all__) == (public - modules) | {"__version__"}


def test_every_exported_callable_is_documented() -> None:
    for name in slaengine.__all__:
        obj = getattr(slaengine, name)
        if callable(obj):
            assert inspect.getdoc(obj), f"slaengine.{name} has no docstring"


def test_load_agreement_returns_a_validated_agreement() -> None:
    agreement = slaengine.load_agreement(ROOT / "agreement")
    assert agreement.version == agreement.reviews[-1].version  # the signed review's
    assert agreement.digest.startswith("sha256:") and len(agreement.digest) == 71
    assert agreement.digest == agreement.reviews[-1].digest  # the approved content
    assert list(agreement.spec.parties) == ["marketing", "sales"]
    dates = [r.date.isoformat() for r in agreement.reviews]
    assert dates[:3] == ["2026-05-18", "2026-11-16", "2026-11-20"] and dates == sorted(dates)


def test_invalid_agreement_raises_with_every_diagnostic(tmp_path: Path) -> None:
    (tmp_path / "agreement.yaml").write_text(
        "agreement: X\nversion: one\ntimezone: Mars/Olympus\n"
        "parties: {marketing: {lead: {name: A}}}\nfields: {id: {type: string, key: true}}\n")
    with pytest.raises(slaengine.AgreementError) as caught:
        slaengine.load_agreement(tmp_path)
    codes = {d.code for d in caught.value.diagnostics}
    assert codes == {"version-not-semver", "unknown-timezone"}
    assert caught.value.diagnostics[0].location == Location(str(tmp_path / "agreement.yaml"), 2, 10)
    assert "version-not-semver" in str(caught.value)


def test_missing_folder_raises_usage_error(tmp_path: Path) -> None:
    with pytest.raises(slaengine.UsageError):
        slaengine.load_agreement(tmp_path / "missing")


def test_package_ships_py_typed() -> None:
    assert (Path(slaengine.__file__).parent / "py.typed").is_file()
