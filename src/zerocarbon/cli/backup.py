"""`zerocarbon backup ...`: back up, check and restore the database, the meter lake and waiting uploads."""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer

from zerocarbon.cli.common import EXIT_CHECK_FAILED, DbOpt, JsonOpt, console, emit_json, err, escape, group, lake_folder

app = group("Backups: a consistent copy of the database, the meter lake and waiting uploads; check; restore.")

LakeOpt = Annotated[Optional[Path], typer.Option("--lake", help="meter lake folder (default for create: "
                                                               "$ZEROCARBON_LAKE if set)", callback=lake_folder)]
DataDirOpt = Annotated[Optional[Path], typer.Option("--data-dir", help="jobs data folder whose uploads/ are copied "
                                                                      "(default for create: $ZEROCARBON_DATA_DIR "
                                                                      "if set)")]
_STEPS = {"database": "database", "lake": "lake files", "uploads": "uploads", "verify": "checking",
          "upgrade": "migrations", "audit": "audit chain"}


@contextmanager
def _progress(as_json: bool):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    # Progress goes to stderr so that --json output on stdout stays clean.
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True, disable=as_json or not err.is_terminal) as bar:
        tasks: dict[str, int] = {}

        def update(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = bar.add_task(_STEPS.get(step, step), total=total or None)
            bar.update(tasks[step], completed=done, total=total or None)

        yield update


def _env_path(given: Path | None, env: str) -> Path | None:
    if given is not None:
        return given
    value = os.environ.get(env, "").strip()
    return Path(value) if value else None


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return str(n)


@app.command("create")
def create_cmd(folder: Annotated[Path, typer.Argument(help="new (or empty) folder to write the backup into")],
               db: DbOpt = None, lake: LakeOpt = None, data_dir: DataDirOpt = None, as_json: JsonOpt = False) -> None:
    """Back up the database (SQLite: online backup API; PostgreSQL: pg_dump -Fc), the meter lake's Parquet files
    and the uploads waiting for a job, with a manifest of every file's SHA-256."""
    from zerocarbon.services import backup
    from zerocarbon.services.energy_report import LAKE_ENV
    from zerocarbon.services.jobs import DATA_ENV

    with _progress(as_json) as update:
        done = backup.create(folder, db, _env_path(lake, LAKE_ENV), _env_path(data_dir, DATA_ENV), update)
    m = done.manifest
    if as_json:
        emit_json({"folder": str(done.folder), "bytes": done.bytes, "manifest": m.__dict__ | {"files": len(m.files)}})
        return
    console.print(f"[green]backup written:[/] {escape(str(done.folder))} ({_size(done.bytes)}, {len(m.files)} files)",
                  highlight=False)
    console.print(f"  database: {m.engine}, schema revision {m.alembic_revision}, {sum(m.tables.values()):,} rows in "
                  f"{len(m.tables)} tables; audit trail {m.audit_entries} entries, head {m.audit_head or '-'}",
                  highlight=False)
    console.print(f"  lake: {m.lake_files} Parquet files ({_size(m.lake_bytes)})" if m.lake_files or lake
                  else "  lake: not included (give --lake or set $ZEROCARBON_LAKE)", highlight=False)
    console.print(f"  uploads waiting for jobs: {m.uploads_files}", highlight=False)
    console.print(f"Check it any time with `zerocarbon backup verify {escape(str(done.folder))}`.", highlight=False)


@app.command("verify")
def verify_cmd(folder: Annotated[Path, typer.Argument(help="backup folder")], as_json: JsonOpt = False) -> None:
    """Check every file of a backup against its manifest (present, same size, same SHA-256, nothing added).
    Exit code 3 names each file at fault."""
    from zerocarbon.services import backup

    with _progress(as_json) as update:
        v = backup.verify(folder, update)
    if as_json:
        emit_json({"ok": v.ok, "files_checked": v.files_checked, "problems": [str(p) for p in v.problems],
                   "manifest": None if v.manifest is None else v.manifest.__dict__ | {"files": len(v.manifest.files)}})
    elif v.ok:
        m = v.manifest
        console.print(f"[green]intact:[/] {v.files_checked} files match the manifest; {m.engine} database at schema "
                      f"revision {m.alembic_revision}, zerocarbon {m.zerocarbon}, taken {m.created_at}; "
                      f"{m.lake_files} lake files", highlight=False)
    else:
        console.print(f"[bold red]damaged:[/] {len(v.problems)} problem(s); do not restore from this backup",
                      highlight=False)
        for p in v.problems[:50]:
            console.print(f"  - {p}", markup=False, highlight=False)
    if not v.ok:
        raise typer.Exit(EXIT_CHECK_FAILED)


@app.command("restore")
def restore_cmd(folder: Annotated[Path, typer.Argument(help="backup folder")],
                db: Annotated[str, typer.Option("--db", help="SQLAlchemy URL of the EMPTY database to restore into "
                                                             "(a new SQLite file, or a database made with createdb)")],
                lake: Annotated[Optional[Path], typer.Option("--lake", help="new or empty folder for the meter lake",
                                                          callback=lake_folder)]
                = None,
                without_lake: Annotated[bool, typer.Option("--without-lake", help="leave the backup's lake out")]
                = False,
                data_dir: Annotated[Optional[Path], typer.Option("--data-dir", help="jobs data folder to put waiting "
                                                                                   "uploads back into")] = None,
                as_json: JsonOpt = False) -> None:
    """Restore a backup into an empty database (and lake folder): checks the whole backup first and writes
    nothing if anything is wrong, upgrades an older schema, then verifies the audit chain."""
    from zerocarbon.services import backup

    with _progress(as_json) as update:
        r = backup.restore(folder, db, lake, data_dir, without_lake, update)
    if as_json:
        emit_json({"ok": r.ok, "engine": r.engine, "revision_restored": r.revision_restored,
                   "revision_now": r.revision_now, "upgraded": r.upgraded, "tables_checked": r.tables_checked,
                   "row_count_mismatches": r.row_count_mismatches, "lake_files": r.lake_files,
                   "lake": r.lake_restored_to, "uploads_files": r.uploads_files, "audit_intact": r.audit_intact,
                   "audit_entries": r.audit_entries, "audit_head": r.audit_head, "audit_findings": r.audit_findings})
    else:
        console.print(f"[green]restored:[/] {r.engine} database at schema revision {r.revision_restored}"
                      + (f", upgraded to {r.revision_now}" if r.upgraded else ""), highlight=False)
        if r.row_count_mismatches:
            console.print(f"[bold red]row counts differ[/] from the backup in {len(r.row_count_mismatches)} table(s):",
                          highlight=False)
            for line in r.row_count_mismatches[:50]:
                console.print(f"  - {line}", markup=False, highlight=False)
        else:
            console.print(f"  rows: all {r.tables_checked} tables hold the row counts of the backup", highlight=False)
        console.print(f"  lake: {r.lake_files} files restored to {escape(str(r.lake_restored_to))}" if r.lake_restored_to
                      else ("  lake: left out" if r.manifest.lake_files else "  lake: none in the backup"),
                      highlight=False)
        if r.uploads_files:
            console.print(f"  uploads waiting for jobs: {r.uploads_files}", highlight=False)
        if r.audit_intact:
            console.print(f"  audit chain: [green]intact[/], {r.audit_entries} entries, head {r.audit_head or '-'} "
                          f"(the backup's head {r.manifest.audit_head or '-'} checked)", highlight=False)
        else:
            console.print(f"  audit chain: [bold red]broken[/], {len(r.audit_findings)} finding(s):", highlight=False)
            for f in r.audit_findings[:50]:
                console.print(f"  - {f}", markup=False, highlight=False)
    if not r.ok:
        raise typer.Exit(EXIT_CHECK_FAILED)
