"""`slaengine site build|serve`: publish the agreement as a MkDocs site."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from ..agreement.diagnostics import AgreementError
from .commands import _today
from .evaluate import agreement_option

today_option = click.option(
    "--today", metavar="DATE",
    help="Date the status is told as of: overdue review, open actions (default: today).")
config_option = click.option(
    "--config", "config_file", metavar="FILE", default="mkdocs.yml", show_default=True,
    type=click.Path(path_type=Path), help="MkDocs configuration.")


class _Stderr(logging.Handler):
    """Log records on the current stderr (looked up per record, as click.echo does)."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(self.format(record), err=True)


def _log_to_stderr() -> None:
    """MkDocs' and slaengine's messages on stderr, formatted as the `mkdocs` command does."""
    for name in ("mkdocs", "slaengine"):
        logger = logging.getLogger(name)
        if not any(isinstance(h, _Stderr) for h in logger.handlers):
            handler = _Stderr()
            handler.setFormatter(logging.Formatter("%(levelname)-7s -  %(message)s"))
            logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def _invalid(folder: Path, exc: AgreementError) -> None:
    for diagnostic in exc.errors:
        click.echo(diagnostic.format(), err=True)
    click.echo(f"slaengine: {folder} is not a valid agreement (run `slaengine validate`)",
               err=True)
    sys.exit(1)


@click.group("site")
def site_group() -> None:
    """Publish the agreement: render its pages into site/agreement/, then run MkDocs."""


@site_group.command("build")
@agreement_option
@today_option
@config_option
def build_command(agreement_dir: Path, today: str | None, config_file: Path) -> None:
    """Render the agreement's pages, then `mkdocs build --strict` (into build/site)."""
    # MkDocs and the renderer load only for `site` commands, not on every `slaengine` start.
    from ..site import build as site  # noqa: PLC0415

    _log_to_stderr()
    try:
        built = site.build(agreement_dir, _today(today), config_file)
    except AgreementError as exc:
        _invalid(agreement_dir, exc)
    except site.SiteError as exc:
        click.echo(f"slaengine: the site did not build: {exc}", err=True)
        sys.exit(1)
    click.echo(f"built {built}", err=True)


@site_group.command("serve")
@agreement_option
@today_option
@config_option
@click.option("--dev-addr", metavar="IP:PORT", help="Address to serve on (default: MkDocs').")
def serve_command(agreement_dir: Path, today: str | None, config_file: Path,
                  dev_addr: str | None) -> None:
    """Render and preview the site; edits to the agreement re-render it and reload the page."""
    from ..site import build as site  # noqa: PLC0415  (as in `build`)

    _log_to_stderr()
    try:
        site.serve(agreement_dir, _today(today) if today else None, config_file, dev_addr)
    except AgreementError as exc:
        _invalid(agreement_dir, exc)


__all__ = ["site_group"]
