"""The `slaengine` command: click parses the options; the work is done by the library."""

from __future__ import annotations

import sys
import traceback

import click

from ..files import FileRefused
from .actions import actions_command
from .check import check_command
from .commands import schema_command, validate_command
from .diff import diff_command
from .evaluate import evaluate_command, explain_command, test_command
from .kpis import kpis_command
from .mapping import mapping_group
from .meeting import meeting_group
from .plan import plan_command
from .report import report_command
from .review import review_group
from .site import site_group
from .sql import sql_command

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
REPORT_TO = "the slaengine maintainers (an issue in the slaengine repository)"
_debug = {"on": False}  # set by `--debug`, read by `main` once the command has failed


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="slaengine")
@click.option("--debug", is_flag=True,
              help="On an internal error, print the full traceback instead of one line.")
def cli(debug: bool) -> None:
    """The marketing and sales agreement as reviewed code.

    Exit status: 0 ok, 1 findings or an invalid agreement, 2 bad usage or unreadable input,
    3 an internal error (a bug in slaengine: one line, `--debug` for the traceback).
    """
    _debug["on"] = debug


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
cli.add_command(mapping_group)
cli.add_command(actions_command)
cli.add_command(meeting_group)
cli.add_command(plan_command)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: usage problems become a one-line message and exit 2; anything
    unexpected is an internal error, one line and exit 3, never mistaken for a finding."""
    _debug["on"] = False
    try:
        cli.main(args=argv, prog_name="slaengine", standalone_mode=True)
    except FileRefused as exc:  # UsageError too
        click.echo(f"slaengine: error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except BrokenPipeError:
        # `slaengine evaluate ... | head`: the reader has all it wanted.
        sys.stderr.close()
        sys.exit(EXIT_OK)
    except Exception as exc:
        if _debug["on"]:
            traceback.print_exc()
        click.echo(internal_error(exc, debug=_debug["on"]), err=True)
        sys.exit(EXIT_INTERNAL)


def internal_error(exc: BaseException, *, debug: bool = False) -> str:
    """One line for a bug: what failed and where (the innermost slaengine frame), whom to tell."""
    where = ""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if "slaengine" in frame.filename:
            module = frame.filename.rsplit("slaengine", 1)[-1].lstrip("/\\")
            where = f" in slaengine/{module}:{frame.lineno}"
            break
    detail = str(exc).splitlines()[0] if str(exc).strip() else ""
    what = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    rerun = "" if debug else "; rerun with --debug for the traceback"
    return (f"slaengine: internal error: {what}{where}; this is a bug, please report it to "
            f"{REPORT_TO} with the command you ran{rerun}")


__all__ = ["EXIT_FINDINGS", "EXIT_INTERNAL", "EXIT_OK", "EXIT_USAGE", "cli", "internal_error",
           "main"]
