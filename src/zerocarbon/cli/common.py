"""What every command group shares: the console, common options, JSON output and the one error handler.

Command modules import services inside their functions, so `zerocarbon --help` loads no pandas, SQLAlchemy
or OR-Tools.
"""
from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import traceback
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from typer.core import TyperGroup

from zerocarbon.errors import InputError, ZerocarbonError

# Piped into a file or a log, rich would cut tables at 80 columns; a wide page keeps ids and numbers whole.
_PIPED_WIDTH = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 200
console = Console(width=_PIPED_WIDTH)
err = Console(stderr=True, width=None if sys.stderr.isatty() or os.environ.get("COLUMNS") else 200)

# Exit codes: 0 done; 2 bad input or usage (the user can fix it); 1 internal error (a log file has the trace);
# 3 a check ran and failed.
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 1
EXIT_CHECK_FAILED = 3  # a verification ran and found a problem (e.g. `audit verify`)

DbOpt = Annotated[Optional[str], typer.Option("--db", help="SQLAlchemy URL; default $ZEROCARBON_DB or ./zerocarbon.sqlite")]
OrgOpt = Annotated[str, typer.Option("--org", help="organisation code (from the organisation file)")]
YearOpt = Annotated[int, typer.Option("--year", help="reporting year", min=1990, max=2100)]
SetOpt = Annotated[str, typer.Option("--factors", help="factor set name (`zerocarbon factors sets`)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print the result as JSON on stdout")]
ActorOpt = Annotated[Optional[str], typer.Option("--actor", help="who makes the change, recorded in the audit trail "
                                                                 "(default: cli:<OS user>)")]


def actor(given: str | None = None) -> str:
    """Who a command acts as in the audit trail: ``--actor`` when given, else ``cli:<OS user>`` so entries made
    at a terminal are told apart from the API's ``user:<e-mail>`` and ``token:<name>``."""
    if given:
        if given.startswith(("user:", "token:")):
            from zerocarbon.errors import InputError, Problem

            raise InputError([Problem("--actor", None, None, f"'{given}' names an API user or token; the command "
                                      "line records itself as cli:<name>")])
        return given if given.startswith("cli:") else f"cli:{given}"
    import getpass

    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no user name in the environment or the password database
        name = "unknown"
    return f"cli:{name}"


# A URI given where a folder is expected: a Path folds "file:///x" into "file:/x", so the scheme and one slash
# are what is left to recognise.
_URI_LIKE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+:/")


def lake_folder(value):
    """``--lake`` of a command that reads or writes the lake as a folder: a URI is refused, never taken for a
    relative folder of that name."""
    if value is not None and _URI_LIKE.match(str(value)):
        raise typer.BadParameter(f"'{value}' is a URI, and this command reads or writes the lake as a folder. Only "
                                 "`meters rollup`, `meters kpis` and `meters to-activity` with --engine spark read a "
                                 "lake at a URI (docs/spark.md); otherwise mount the store and give its folder")
    return value


class Engine(str, Enum):
    duckdb = "duckdb"
    spark = "spark"


MasterOpt = Annotated[Optional[str], typer.Option("--spark-master", help="Spark master URL, e.g. spark://host:7077 "
                                                                         "(default $ZEROCARBON_SPARK_MASTER, else "
                                                                         "local[*]); only with --engine spark")]


class Method(str, Enum):
    location = "location"
    market = "market"


class Scope(str, Enum):
    one = "1"
    two = "2"


# Stored (imported) sets live in the database. A lookup never creates one: without --db and $ZEROCARBON_DB
# only shipped sets are looked up, and a database that does not exist holds no stored sets.
StoredOpt = Annotated[Optional[str], typer.Option(
    "--db", help="database URL holding stored factor sets (`zerocarbon factors import`); default: $ZEROCARBON_DB "
                 "if set and the database exists, else shipped sets only")]


def stored_sets_db(db: str | None):
    """Sessions on the database holding stored sets, or None for shipped sets only.

    An explicit --db must exist (a typo should not pass for "no stored sets"); $ZEROCARBON_DB is used when
    set and its database exists.
    """
    import os

    from zerocarbon.services import database

    if db:
        return database.open_sessions(db, create=False)
    env = os.environ.get("ZEROCARBON_DB")
    if env and database.exists(env):
        return database.open_sessions(env, create=False)
    return None


def emit_json(obj: Any) -> None:
    """Machine-readable output: UTF-8, Chinese left as is, dates and paths as strings."""
    sys.stdout.write(json.dumps(obj, indent=2, ensure_ascii=False, default=_plain) + "\n")


def _plain(v: Any) -> Any:
    if hasattr(v, "item"):  # numpy scalars
        return v.item()
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v)


def open_db(db: str | None, create: bool = False):
    """The database of --db / $ZEROCARBON_DB. Only the commands that start one (``org load``, ``factors import``,
    ``meters import``, ``ingest mqtt``, ``serve``) create it; the others refuse a database that does not exist, so
    a mistyped path is an error rather than an empty answer (``audit verify`` saying "intact: 0 entries")."""
    from zerocarbon.services.database import open_sessions

    return open_sessions(db, create=create)


def log_dir() -> Path:
    d = os.environ.get("ZEROCARBON_LOG_DIR")
    if d:
        return Path(d)
    cache = os.environ.get("XDG_CACHE_HOME") or (Path.home() / ".cache")
    return Path(cache) / "zerocarbon"


def _write_crash_log(exc: BaseException) -> Path:
    text = (f"zerocarbon {' '.join(sys.argv[1:])}\n{datetime.now().isoformat()}\n\n"
            + "".join(traceback.format_exception(exc)))
    for folder in (log_dir(), Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"error-{datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}.log"
            path.write_text(text, encoding="utf-8")
            return path
        except OSError:
            continue
    return Path("(no writable log folder)")


class ErrorHandlingGroup(TyperGroup):
    """Maps the project's exception tree once, for every command: a message and an exit code, no traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):  # usage errors: typer prints them, exit 2
            raise
        except InputError as exc:
            err.print(f"[bold red]error:[/] {len(exc.problems)} problem(s) in the input; nothing was written:",
                      highlight=False)
            for p in exc.problems[:50]:
                err.print(f"  - {p}", markup=False, highlight=False, soft_wrap=True)
            if len(exc.problems) > 50:
                err.print(f"  ... and {len(exc.problems) - 50} more", highlight=False)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except ZerocarbonError as exc:
            err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except KeyboardInterrupt:
            err.print("interrupted")
            raise typer.Exit(130) from None
        except BrokenPipeError:  # `zerocarbon ... | head`: the reader has gone, nothing more to say
            quiet_stdout()
            raise typer.Exit(0) from None
        except Exception as exc:  # noqa: BLE001 - the last line of defence: log it, never show a traceback
            path = _write_crash_log(exc)
            err.print(f"[bold red]internal error:[/] {escape(type(exc).__name__)}: {escape(str(exc))[:300]}\n"
                      f"The details are in {path}; please attach that file when reporting the problem.",
                      highlight=False)
            raise typer.Exit(EXIT_INTERNAL) from None


def quiet_stdout() -> None:
    """Point stdout at /dev/null so Python's final flush does not fail again on a closed pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def escape(text: str) -> str:
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def read_file(path: Path) -> tuple[str, bytes]:
    """The name and bytes of a file given on the command line, as the services take uploads."""
    from zerocarbon.errors import Problem

    if not path.is_file():
        raise InputError([Problem(str(path), None, None, "file not found")])
    return path.name, path.read_bytes()


def group(help_text: str) -> typer.Typer:
    return typer.Typer(help=help_text, no_args_is_help=True, pretty_exceptions_enable=False)


def tonnes(x: float) -> str:
    return f"{x:,.1f}"
