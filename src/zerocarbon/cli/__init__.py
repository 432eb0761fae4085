"""`zerocarbon` command line: thin shells over services, one module per command group.

Every command's errors go through one handler (``common.ErrorHandlingGroup``): exit 2 with a message for
bad input or usage, exit 1 with a log file for an internal error, never a traceback.
"""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from zerocarbon import __version__
from zerocarbon.cli import (accounting, assess, audit, backup, claims, demo, disclose, energy, factors, green, jobs, meters, pact, pathway, schedule,
                            serve, supply, targets, users)
from zerocarbon.cli import doctor
from zerocarbon.cli.common import ErrorHandlingGroup, console

app = typer.Typer(cls=ErrorHandlingGroup, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="zerocarbon: measure, cut and prove a factory's greenhouse-gas emissions.")


def _version(value: bool) -> None:
    if value:
        console.print(f"zerocarbon {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[Optional[bool], typer.Option("--version", callback=_version, is_eager=True,
                                                           help="print the version and exit")] = None) -> None:
    """zerocarbon: measure, cut and prove a factory's greenhouse-gas emissions."""


app.command("demo")(demo.demo)
app.command("calc")(factors.calc_cmd)
app.add_typer(accounting.import_app, name="import")
app.command("schema")(accounting.schema)
app.add_typer(factors.app, name="factors")
app.add_typer(accounting.org_app, name="org")
app.add_typer(accounting.inventory_app, name="inventory")
app.add_typer(accounting.baseyear_app, name="baseyear")
app.add_typer(schedule.app, name="schedule")
app.add_typer(meters.app, name="meters")
app.add_typer(meters.ingest_app, name="ingest")
app.add_typer(meters.db_app, name="db")
app.add_typer(energy.app, name="energy")
app.add_typer(audit.app, name="audit")
app.add_typer(backup.app, name="backup")
app.add_typer(users.app, name="users")
app.add_typer(pact.app, name="pact")
app.add_typer(supply.app, name="supply")
app.add_typer(green.logistics_app, name="logistics")
app.add_typer(green.packaging_app, name="packaging")
app.add_typer(green.recycling_app, name="recycling")
app.add_typer(green.overview_app, name="supply-chain")
app.add_typer(targets.app, name="targets")
app.add_typer(pathway.app, name="pathway")
app.add_typer(claims.app, name="claim")
app.add_typer(assess.app, name="assess")
app.add_typer(disclose.app, name="disclose")
app.command("serve")(serve.serve)
app.command("worker")(jobs.worker)
app.add_typer(jobs.jobs_app, name="jobs")
app.command("doctor")(doctor.doctor)


def main() -> None:
    try:
        app()
    except BrokenPipeError:  # help or a table piped into `head`
        from zerocarbon.cli.common import quiet_stdout

        quiet_stdout()


__all__ = ["app", "main"]
