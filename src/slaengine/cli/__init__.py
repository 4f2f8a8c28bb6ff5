"""The `slaengine` command: click parses the options; the work is done by the library."""

from __future__ import annotations

import sys

import click

from ..agreement.diagnostics import UsageError
from .actions import actions_command
from .check import check_command
from .commands import schema_command, validate_command
from .diff import diff_command
from .evaluate import evaluate_command, explain_command, test_command
from .kpis import kpis_command
from .meeting import meeting_group
from .plan import plan_command
from .report import report_command
from .review import review_group
from .site import site_group
from .sql import sql_command

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="slaengine")
def cli() -> None:
    """The marketing and sales agreement as reviewed code.

    Exit status: 0 ok, 1 findings or an invalid agreement, 2 bad usage or unreadable input.
    """


for command in (validate_command, test_command, explain_command, evaluate_command,
                schema_command):
    cli.add_command(command)
cli.add_command(check_command)
cli.add_command(site_group)
cli.add_command(sql_command)
cli.add_command(diff_command)
cli.add_command(review_group)
cli.add_command(kpis_command)
cli.add_command(report_command)
cli.add_command(actions_command)
cli.add_command(meeting_group)
cli.add_command(plan_command)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: usage problems become a one-line message and exit 2."""
    try:
        cli.main(args=argv, prog_name="slaengine", standalone_mode=True)
    except UsageError as exc:
        click.echo(f"slaengine: error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except BrokenPipeError:
        # `slaengine evaluate ... | head`: the reader has all it wanted.
        sys.stderr.close()
        sys.exit(EXIT_OK)


__all__ = ["EXIT_FINDINGS", "EXIT_OK", "EXIT_USAGE", "cli", "main"]
