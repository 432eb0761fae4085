"""`zerocarbon meters ...` and `zerocarbon ingest ...`: interval meter data, bulk and live."""
from __future__ import annotations

from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from zerocarbon.cli.common import (DbOpt, Engine, JsonOpt, MasterOpt, YearOpt, console, emit_json, err, group,
                                   lake_folder)

app = group("Interval meter data: bulk import into the Parquet lake, roll-ups.")
ingest_app = group("Live ingest.")
db_app = group("The application database's schema.")
LakeOpt = Annotated[Path, typer.Option("--lake", help="lake folder", callback=lake_folder)]
# The commands that run on an engine may read a lake at a URI (Spark only): kept as text, as a path would fold "//".
LakeReadOpt = Annotated[str, typer.Option("--lake", help="lake folder; with --engine spark also a URI Spark reads "
                                                         "(s3a://, hdfs://, file://; docs/spark.md)")]
OrgCodeOpt = Annotated[Optional[str], typer.Option("--org", help="organisation code (default: the database's only "
                                                                 "organisation)")]


EngineOpt = Annotated[Engine, typer.Option("--engine", help="what runs the calculation over the lake: DuckDB in this "
                                                            "process, or Apache Spark (docs/spark.md)")]


def organisation(org: str | None, db: str | None) -> str:
    """The organisation a command works for: ``--org``, or the database's only one; anything else is a usage
    error that lists the choices, never a guess."""
    from zerocarbon.errors import InputError, Problem

    if org:
        return org
    from zerocarbon.services import meter_import
    from zerocarbon.services.database import database_url, exists, open_sessions

    if not exists(db):
        raise InputError([Problem("--org", None, None, f"no database at {database_url(db)} to take the organisation "
                                                       "from; give --org CODE (or --db)")])
    codes = meter_import.organisations(open_sessions(db, create=False))
    if len(codes) == 1:
        return codes[0]
    if not codes:
        raise InputError([Problem("--org", None, None, "the database holds no organisation; load one with "
                                                       "`zerocarbon org load FILE` or give --org CODE")])
    raise InputError([Problem("--org", None, None, f"the database holds {len(codes)} organisations "
                                                   f"({', '.join(codes)}); choose one with --org")])


class RollupBy(str, Enum):
    meter = "meter"
    site = "site"


class Freq(str, Enum):
    hour = "hour"
    day = "day"
    month = "month"


class ImportEngine(str, Enum):
    auto = "auto"
    pandas = "pandas"
    duckdb = "duckdb"
    spark = "spark"


ProfileOpt = Annotated[Optional[Path], typer.Option("--profile", help="meter-file profile (YAML): column mapping, "
                                                    "date format, interval start/end, time zone, unit")]


@app.command("import")
def meters_import(registry: Path, readings: Path, lake: LakeOpt = Path("lake"),
                  fill: Annotated[bool, typer.Option(help="fill gaps of up to 4 intervals linearly")] = False,
                  profile: ProfileOpt = None,
                  engine: Annotated[ImportEngine, typer.Option(
                      help="pandas: careful path; duckdb: out-of-core; auto: duckdb above 200 MiB; spark: the "
                           "duckdb path's rules on Apache Spark (docs/spark.md)")] = ImportEngine.auto,
                  spark_master: MasterOpt = None,
                  org: OrgCodeOpt = None, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Import a CSV/Parquet of readings for the organisation's meters in REGISTRY: by default columns meter,
    timestamp, value[, unit]; any other layout through --profile."""
    from zerocarbon.cli.common import actor, open_db
    from zerocarbon.services import meter_import

    meters = meter_import.read_registry(registry)
    layout = meter_import.read_profile(profile)
    code = organisation(org, db)
    meter_import.register_meters(open_db(db, create=True), code, meters, actor=actor(), source=registry.name)
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=err,
                  transient=True, disable=as_json or not err.is_terminal) as progress:
        task = progress.add_task(f"importing {readings.name}", total=len(meters))
        s = meter_import.import_file(lake, code, meters, readings, fill, engine=engine.value, profile=layout,
                                     progress=lambda n: progress.update(task, completed=n), spark_master=spark_master)
    if as_json:
        emit_json({**s.__dict__, "filled_share": s.filled_share})
        return
    console.print(f"{s.rows:,} rows read; {s.stored:,} new readings stored, {s.already_stored:,} already in the lake; "
                  f"{s.duplicates_dropped:,} duplicate rows dropped; {s.missing_intervals:,} missing intervals; "
                  f"{s.filled:,} filled ({s.filled_share:.2%}); {s.spikes:,} spikes flagged; "
                  f"{s.rollovers} register rollovers; {s.resets} resets")


@app.command("rollup")
def meters_rollup(registry: Annotated[Path, typer.Option("--registry", help="meter registry CSV: each meter's site "
                                                                           "and time zone")],
                  lake: LakeReadOpt = "lake", by: Annotated[RollupBy, typer.Option()] = RollupBy.site,
                  freq: Annotated[Freq, typer.Option()] = Freq.month,
                  site: Annotated[Optional[str], typer.Option("--site", help="only this site")] = None,
                  date_from: Annotated[Optional[str], typer.Option("--from", help="first local date, YYYY-MM-DD")] = None,
                  date_to: Annotated[Optional[str], typer.Option("--to", help="last local date (included)")] = None,
                  org: OrgCodeOpt = None, db: DbOpt = None, as_json: JsonOpt = False,
                  engine: EngineOpt = Engine.duckdb, spark_master: MasterOpt = None) -> None:
    """Energy per meter or site and hour, day or month of the site's local calendar, from the organisation's
    part of the lake."""
    from zerocarbon.services.meter_import import read_registry
    from zerocarbon.services import energy_data

    df = energy_data.rollup(lake, organisation(org, db), read_registry(registry), by.value, freq.value, site,
                            energy_data.parse_day(date_from, "--from"), energy_data.parse_day(date_to, "--to"),
                            engine.value, spark_master)
    if as_json:
        emit_json(df.to_dict(orient="records"))
        return
    if df.empty:
        console.print("no readings in that selection")
        return
    console.print(rollup_table(df))


def rollup_table(df) -> Table:
    """The roll-up as a table that stays whole in 80 columns (a pipe, a log): a column with one value in
    every row moves to the caption, and numbers and keys never wrap or shorten; use --json for machines."""
    same = [c for c in ("timezone", "unit", "basis", "medium") if c in df and df[c].nunique() == 1]
    caption = "; ".join([f"{c} {df[c].iloc[0]}" for c in same] + ["periods of the site's local calendar"])
    shown = [c for c in df.columns if c not in same]
    table = Table(caption=caption)
    for c in shown:
        numeric = c in ("value", "intervals")
        table.add_column(str(c), justify="right" if numeric else "left",
                         no_wrap=numeric or c in ("site", "meter", "period"))
    for r in df[shown].itertuples(index=False):
        table.add_row(*[f"{v:,.1f}" if isinstance(v, float) else str(v) for v in r])
    return table


class KpiFreq(str, Enum):
    day = "day"
    month = "month"


class KpiPer(str, Enum):
    line = "line"
    product = "product"


@app.command("kpis")
def meters_kpis(registry: Annotated[Path, typer.Option("--registry", help="meter registry CSV: each meter's site, "
                                                                         "time zone and line")],
                lake: LakeReadOpt = "lake",
                production: Annotated[Optional[Path], typer.Option("--production", help="production counts "
                                                                   "(timestamp,line,units, optionally product; or "
                                                                   "one column per line) for kWh per unit")] = None,
                per: Annotated[KpiPer, typer.Option("--per", help="line: per line and shift (and product, when the "
                                                                  "counts name products); product: each product's "
                                                                  "kWh and units over a site's lines and shifts")]
                = KpiPer.line,
                shifts: Annotated[str, typer.Option("--shifts", help="local shifts NAME=START-END, comma "
                                                                     "separated")] = "day=8-20,night=20-8",
                freq: Annotated[KpiFreq, typer.Option()] = KpiFreq.day,
                site: Annotated[Optional[str], typer.Option("--site", help="only this site")] = None,
                date_from: Annotated[Optional[str], typer.Option("--from", help="first local date, YYYY-MM-DD")] = None,
                date_to: Annotated[Optional[str], typer.Option("--to", help="last local date (included)")] = None,
                org: OrgCodeOpt = None, db: DbOpt = None, as_json: JsonOpt = False,
                engine: EngineOpt = Engine.duckdb, spark_master: MasterOpt = None) -> None:
    """Energy KPIs per site, line and shift of each local day or month: kWh, intervals, units produced and
    kWh per unit. Counts that name products share each line's energy in a shift among them by units."""
    from zerocarbon.services.meter_import import read_registry
    from zerocarbon.services import energy_data, energy_report

    df = energy_data.kpis(lake, organisation(org, db), read_registry(registry), production,
                          energy_report.parse_shifts(shifts), freq.value, site,
                          energy_data.parse_day(date_from, "--from"), energy_data.parse_day(date_to, "--to"),
                          engine.value, spark_master, per.value)
    if as_json:
        emit_json(df.astype(object).where(df.notna(), None).to_dict(orient="records"))
        return
    if df.empty:
        console.print("no product was made in that selection; `--per line` shows its energy" if per == KpiPer.product
                      else "no readings of metered lines in that selection")
        return
    table = Table(caption=f"kWh per line and shift ({shifts}), periods of the site's local calendar; a shift "
                          "that wraps midnight counts on the day it began"
                          + ("; a line's kWh in a shift shared among its products by units made; shifts that made "
                             "nothing are in no product" if "product" in df.columns else ""))
    for c in df.columns:
        table.add_column(c, justify="right" if c in ("kwh", "intervals", "units", "kwh_per_unit") else "left",
                         no_wrap=True)
    for r in df.itertuples(index=False):
        table.add_row(*["–" if v is None or v != v else f"{v:,.3f}" if isinstance(v, float) else str(v) for v in r])
    console.print(table)


@app.command("to-activity")
def meters_to_activity(registry: Path, year: YearOpt, lake: LakeReadOpt = "lake",
                       out: Annotated[Path, typer.Option(help="electricity activity CSV to write")] = Path("electricity.csv"),
                       allow_partial: Annotated[bool, typer.Option("--allow-partial", help="write months with missing "
                                                                   "intervals as measured (they understate Scope 2)")] = False,
                       org: OrgCodeOpt = None, db: DbOpt = None, as_json: JsonOpt = False,
                       engine: EngineOpt = Engine.duckdb, spark_master: MasterOpt = None) -> None:
    """Monthly kWh (local months) of the revenue meters as an electricity activity file for
    `zerocarbon import electricity`."""
    from zerocarbon.services.meter_import import read_registry
    from zerocarbon.services import energy_data

    r = energy_data.electricity_activity(lake, organisation(org, db), read_registry(registry), year, out,
                                         allow_partial, engine.value, spark_master)
    if as_json:
        emit_json({"file": str(r.path), "year": year, "months": r.months, "partial": r.partial,
                   "without_readings": r.without_readings})
        return
    console.print(f"wrote {r.path}: {r.months} meter-month(s); sub-meters are left out so Scope 2 counts each kWh once")
    for p in r.partial:
        console.print(f"[yellow]warning:[/] {p}: only this share of the month's intervals was measured; the row "
                      "holds the measured kWh, not the whole month's", highlight=False)
    if r.without_readings:
        console.print(f"[yellow]warning:[/] no readings, not written: {', '.join(r.without_readings)}", highlight=False)


@app.command("migrate-lake")
def meters_migrate_lake(lake: Annotated[Path, typer.Argument(help="lake folder of an older layout (site=/date=, or org=/site=/date=)")],
                        org: OrgCodeOpt = None, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Move a lake of an older layout to org=/site=/month=, once: one written before partitions carried the
    organisation (site=/date=) goes under the organisation, one with a folder per day (org=/site=/date=) into
    month folders. Until then no command reads or writes it."""
    from zerocarbon.services import meter_import

    code = organisation(org, db)
    sites = meter_import.migrate_lake(lake, code)
    if as_json:
        emit_json({"lake": str(lake), "organisation": code, "sites": sites})
        return
    console.print(f"moved site(s) {', '.join(sites)} of {lake} under organisation {code} ({lake}/org={code}/site=/month=)")


@db_app.command("upgrade")
def db_upgrade(db: DbOpt = None,
               org: Annotated[Optional[str], typer.Option("--org", help="organisation of the meters and live "
                                                                        "readings stored before they carried one "
                                                                        "(needed when the database holds several "
                                                                        "organisations or none)")] = None) -> None:
    """Bring the database's schema to this version (every command does it on opening; this one can say whose
    earlier meter data is)."""
    from zerocarbon.services.database import database_url, open_sessions

    open_sessions(db, create=False, meter_org=org)
    console.print(f"{database_url(db)} is up to date")


@ingest_app.command("mqtt")
def ingest_mqtt(db: DbOpt = None, org: OrgCodeOpt = None, host: Annotated[str, typer.Option()] = "127.0.0.1",
                port: Annotated[int, typer.Option(min=1, max=65535, help="1883 plain, 8883 TLS")] = 1883,
                topic: Annotated[Optional[str], typer.Option(help="topic filter (default zc/<org>/#)")] = None,
                client_id: Annotated[str, typer.Option()] = "zerocarbon-ingest",
                username: Annotated[Optional[str], typer.Option(envvar="ZEROCARBON_MQTT_USERNAME",
                                                                help="broker user (see deploy/)")] = None,
                password: Annotated[Optional[str], typer.Option(envvar="ZEROCARBON_MQTT_PASSWORD", show_default=False,
                                                                help="broker password; prefer the environment "
                                                                     "variable ZEROCARBON_MQTT_PASSWORD")] = None,
                tls: Annotated[bool, typer.Option(help="connect with TLS (the broker's 8883 listener)")] = False,
                cafile: Annotated[Optional[Path], typer.Option(help="CA certificate that signed the broker's "
                                                                    "certificate (implies --tls)")] = None,
                certfile: Annotated[Optional[Path], typer.Option(help="client certificate, if the broker asks")] = None,
                keyfile: Annotated[Optional[Path], typer.Option(help="client key, with --certfile")] = None,
                seconds: Annotated[Optional[float], typer.Option(help="stop after this long", min=0)] = None,
                share: Annotated[Optional[str], typer.Option(help="join the shared subscription group of this name "
                                                                  "($share/GROUP/<topic>): run several ingest "
                                                                  "commands with distinct --client-id to split "
                                                                  "the feed")] = None,
                processes: Annotated[int, typer.Option(min=0, max=64, help="worker processes that parse, check "
                                                                           "and write (0: a thread of this one)")] = 1,
                window: Annotated[int, typer.Option(min=1, max=65535, help="most unacknowledged messages the "
                                                                           "broker may send (bounds memory)")] = 10000,
                as_json: JsonOpt = False) -> None:
    """Subscribe (MQTT 5, QoS 1, persistent session) and store readings by the file-import rules, acknowledging
    each message after its commit; every refused reading goes to dead letters with its reason."""
    import signal
    import threading

    from zerocarbon.cli.common import open_db
    from zerocarbon.services import ingest

    if share is not None and (not share or any(c in share for c in "/+#")):
        raise typer.BadParameter(f"'{share}' must be a name without '/', '+' or '#'", param_hint="--share")
    code = organisation(org, db)
    topic = topic or f"zc/{code}/#"
    sub = ingest.mqtt_subscriber(open_db(db, create=True), code, host, port, topic, client_id, username=username, password=password,
                                 tls=tls, cafile=str(cafile) if cafile else None,
                                 certfile=str(certfile) if certfile else None,
                                 keyfile=str(keyfile) if keyfile else None, processes=processes, share=share,
                                 window=window)
    done = threading.Event()

    def announce() -> None:  # only once the broker has accepted the connection: a refused one prints no "listening"
        while not done.is_set():
            if sub.connected.wait(0.1):
                console.print(f"listening on {host}:{port} {sub.topic} as {client_id}"
                              f"{' over TLS' if tls or cafile else ''} (Ctrl-C to stop)")
                return

    herald = threading.Thread(target=announce, daemon=True)
    if not as_json:
        herald.start()

    def terminated(_signum, _frame) -> None:  # systemd's stop and `kill`: the same clean stop as Ctrl-C
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminated)
    try:
        sub.run(seconds)
    except KeyboardInterrupt:
        sub.stop()
    finally:
        done.set()
        if herald.is_alive():
            herald.join(1)
    st = sub.stats
    if as_json:
        emit_json(st.__dict__)
        return
    console.print(f"{st.messages:,} messages, {st.readings:,} readings, {st.dead_letters:,} dead letters, flagged {st.flagged}")


@ingest_app.command("to-lake")
def ingest_to_lake(lake: LakeOpt = Path("lake"), db: DbOpt = None, org: OrgCodeOpt = None,
                   since: Annotated[Optional[datetime], typer.Option(help="only readings received since (UTC)")] = None,
                   as_json: JsonOpt = False) -> None:
    """Copy the organisation's live readings from the database into its part of the lake, where roll-ups and
    energy reports read them."""
    from zerocarbon.services import ingest
    from zerocarbon.services.database import open_sessions

    r = ingest.live_to_lake(open_sessions(db, create=False), lake, organisation(org, db), since)
    if as_json:
        emit_json(r.__dict__)
        return
    console.print(f"{r.readings:,} live reading(s): {r.new:,} written to {lake}, {r.already_stored:,} already there")


@ingest_app.command("dead-letters")
def ingest_dead_letters(db: DbOpt = None, org: OrgCodeOpt = None,
                        limit: Annotated[int, typer.Option(min=1, help="newest this many")] = 50,
                        unassigned: Annotated[bool, typer.Option(
                            "--unassigned", help="those whose topic names no organisation the database knows (e.g. "
                                                 "gateways on the old topic layout, heard with --topic 'zc/#')")] = False,
                        as_json: JsonOpt = False) -> None:
    """List refused live messages and readings, newest first: topic, reason, received at (UTC)."""
    from zerocarbon.services import ingest
    from zerocarbon.services.database import open_sessions

    code = None if unassigned else organisation(org, db)
    rows = ingest.dead_letters(open_sessions(db, create=False), code, limit)
    if as_json:
        emit_json([{**r, "received_at": r["received_at"].isoformat()} for r in rows])
        return
    if not rows:
        console.print(f"no dead letters{'' if code is None else f' for organisation {code}'}")
        return
    t = Table("received_at (UTC)", "topic", "reason")
    for r in rows:
        t.add_row(f"{r['received_at']:%Y-%m-%d %H:%M:%S}", r["topic"], r["reason"])
    console.print(t)
