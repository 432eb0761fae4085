"""`zerocarbon doctor`: startup checks of a deployment, each with what was found and the fix."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from zerocarbon.cli.common import EXIT_CHECK_FAILED, DbOpt, JsonOpt, console, emit_json, lake_folder

_STYLE = {"error": "bold red", "warning": "yellow", "ok": "green", "skipped": "dim"}
_LABEL_ZH = {"error": "错误", "warning": "警告", "ok": "正常", "skipped": "跳过"}


def doctor(db: DbOpt = None,
           broker: Annotated[Optional[str], typer.Option(
               "--broker", envvar="ZEROCARBON_MQTT_BROKER", help="MQTT broker HOST:PORT to check "
                                                                 "(default $ZEROCARBON_MQTT_BROKER; none: broker checks skipped)")] = None,
           broker_user: Annotated[Optional[str], typer.Option(
               "--broker-user", envvar="ZEROCARBON_MQTT_USERNAME", help="broker user for the queue probe")] = None,
           broker_password: Annotated[Optional[str], typer.Option(
               "--broker-password", envvar="ZEROCARBON_MQTT_PASSWORD", show_default=False,
               help="its password; better the environment variable ZEROCARBON_MQTT_PASSWORD")] = None,
           cafile: Annotated[Optional[Path], typer.Option("--cafile", help="CA certificate of a TLS listener")] = None,
           broker_config: Annotated[Optional[Path], typer.Option(
               "--broker-config", envvar="ZEROCARBON_MQTT_CONFIG", help="mosquitto.conf the broker runs with, "
                                                                        "read without contacting the broker")] = None,
           broker_secrets: Annotated[Optional[Path], typer.Option(
               "--broker-secrets", help="folder of deploy/mqtt-users.sh (passwd and *.secret): checks their modes")] = None,
           probe_queue: Annotated[bool, typer.Option(
               "--probe-queue", help="active probe: queue 1200 QoS 1 messages for an offline session on a topic "
                                     "of its own and count what the broker delivers")] = False,
           lake: Annotated[Optional[Path], typer.Option("--lake", envvar="ZEROCARBON_LAKE", callback=lake_folder,
                                                        help="lake folder (default $ZEROCARBON_LAKE)")] = None,
           data_dir: Annotated[Optional[Path], typer.Option(
               "--data-dir", help="jobs' data folder (default $ZEROCARBON_DATA_DIR or ./zerocarbon-data)")] = None,
           lang: Annotated[str, typer.Option("--lang", help="en | zh")] = "en",
           as_json: JsonOpt = False) -> None:
    """Check a deployment: broker queue limits and anonymous access, SQLite on a network folder, missing
    migrations, clock skew, lake and data folders, default secrets. Exit 0 without errors, 3 with any, 2 on bad
    options."""
    from zerocarbon.errors import InputError, Problem
    from zerocarbon.services import doctor as service
    from zerocarbon.services import jobs

    if lang not in ("en", "zh"):
        raise InputError([Problem("--lang", None, None, f"'{lang}' is not en or zh")])
    if probe_queue and not broker:
        raise InputError([Problem("--probe-queue", None, None, "needs the broker to probe: --broker HOST:PORT")])
    parsed = None
    if broker:
        try:
            parsed = service.parse_broker(broker, broker_user, broker_password, str(cafile) if cafile else None)
        except ValueError as exc:
            raise InputError([Problem("--broker", None, None, str(exc))]) from None
    report = service.run(service.Options(db=db, broker=parsed, broker_config=broker_config,
                                         broker_secrets=broker_secrets, lake=lake,
                                         data_dir=data_dir or jobs.data_dir(), probe_queue=probe_queue))
    if as_json:
        emit_json(report.to_dict())
    else:
        _print(report, lang)
    raise typer.Exit(EXIT_CHECK_FAILED if report.errors else 0)


def _print(report, lang: str) -> None:
    from rich.markup import escape
    from rich.table import Table

    zh = lang == "zh"
    table = Table(title="zerocarbon doctor", show_lines=True)
    for name in (("结果", "检查", "发现", "修复") if zh else ("result", "check", "found", "fix")):
        table.add_column(name, overflow="fold")
    for f in report.findings:
        title, found, fix = f.text(lang)
        label = _LABEL_ZH[f.severity] if zh else f.severity
        table.add_row(f"[{_STYLE[f.severity]}]{label}[/]", f"{escape(title)}\n[dim]{f.check}[/]", escape(found),
                      escape(fix))
    console.print(table)
    summary = (f"{report.errors} 个错误，{report.warnings} 个警告" if zh
               else f"{report.errors} error(s), {report.warnings} warning(s)")
    console.print(summary, style="bold red" if report.errors else ("yellow" if report.warnings else "green"),
                  highlight=False)
