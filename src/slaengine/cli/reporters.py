"""One reporter per output format of `validate`, chosen by name."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
import orjson

from ..agreement.diagnostics import Location, Severity
from ..agreement.validator import ValidationResult


def _counts(result: ValidationResult) -> str:
    errors, warnings = len(result.errors), len(result.warnings)
    parts = [f"{errors} error{'s' if errors != 1 else ''}",
             f"{warnings} warning{'s' if warnings != 1 else ''}"]
    return ", ".join(parts)


def _summary(result: ValidationResult, root: Path) -> str:
    files = len(result.loaded.files)
    where = f"{_display(root)} ({files} file{'s' if files != 1 else ''})"
    if result.ok:
        spec = result.structured.spec if result.structured else None
        version = f", version {spec.version}" if spec else ""
        digest = f", digest {result.digest}" if result.digest else ""
        return f"{where}: valid{version}{digest}; {_counts(result)}"
    return f"{where}: invalid; {_counts(result)}"


def _display(root: Path) -> str:
    return Location(str(root)).display()


def text(result: ValidationResult, root: Path, color: bool) -> str:
    lines = []
    for diag in result.diagnostics:
        line = diag.format()
        if color:
            word = diag.severity.value
            tint = "red" if diag.severity is Severity.ERROR else "yellow"
            line = line.replace(f": {word}: ", f": {click.style(word, fg=tint, bold=True)}: ", 1)
        lines.append(line)
        if diag.hint:
            lines.append(f"    hint: {diag.hint}")
    lines.append(_summary(result, root))
    return "\n".join(lines)


def json(result: ValidationResult, root: Path, color: bool) -> str:
    spec = result.structured.spec if result.structured else None
    doc = {
        "valid": result.ok,
        "agreement": _display(root),
        "version": spec.version if spec else None,
        "digest": result.digest,
        "errors": len(result.errors),
        "warnings": len(result.warnings),
        "diagnostics": [d.to_json() for d in result.diagnostics],
    }
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode()


def escape_github(value: str, *, property_value: bool = False) -> str:
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if property_value:
        value = value.replace(":", "%3A").replace(",", "%2C")
    return value


def github(result: ValidationResult, root: Path, color: bool) -> str:
    """GitHub Actions workflow commands, so findings show inline on the pull request."""
    lines = []
    for diag in result.diagnostics:
        level = "error" if diag.severity is Severity.ERROR else "warning"
        props = [f"title={escape_github(diag.code, property_value=True)}"]
        if diag.location is not None:
            loc = diag.location
            file = loc.display().split(":")[0] if loc.line else loc.display()
            props.insert(0, f"file={escape_github(file, property_value=True)}")
            if loc.line:
                props.insert(1, f"line={loc.line}")
                props.insert(2, f"col={loc.col}")
        message = diag.message + (f" (hint: {diag.hint})" if diag.hint else "")
        lines.append(f"::{level} {','.join(props)}::{escape_github(message)}")
    lines.append(_summary(result, root))
    return "\n".join(lines)


Reporter = Callable[[ValidationResult, Path, bool], str]
REPORTERS: dict[str, Reporter] = {"text": text, "json": json, "github": github}
