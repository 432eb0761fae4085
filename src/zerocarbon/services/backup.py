"""Backup and restore of one installation: the database, the meter lake and the uploads waiting for a job.

A backup is a folder::

    manifest.json        what the backup holds: versions, engine, row counts, audit head, every file's SHA-256
    database.sqlite      SQLite: a page-by-page copy made with SQLite's online backup API
    database.dump        PostgreSQL: ``pg_dump -Fc`` of the database, taken in the snapshot the manifest describes
    lake/...             the Parquet files of the meter lake, same relative paths
    data/uploads/...     uploaded files spooled for jobs not yet run ($ZEROCARBON_DATA_DIR)

Each engine is copied with its own tool, so a backup restores into the same engine only. A logical export
through SQLAlchemy could carry a SQLite database into PostgreSQL, but it would be a conversion (floating-point
text, time zones of naive timestamps, JSON columns, sequences to reset) whose fidelity is a migration question
of its own, and the audit chain would only prove it after the fact. A backup must give back exactly what was
there, so it uses the engines' own formats and a cross-engine restore is refused with that explanation.

Restore writes nothing until the whole backup has been checked against its manifest, refuses a target that
already holds data, stages the lake next to its target and swaps it in after the database is restored, and
upgrades a backup of an older schema with the migrations.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Callable

from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from zerocarbon import __version__
from zerocarbon.errors import InputError, NotFoundError, Problem, StateError, StorageError
from zerocarbon.store.db import database_url, make_engine, session_factory, upgrade

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite"
PG_FILE = "database.dump"
LAKE = "lake"
UPLOADS = "data/uploads"
ENGINES = ("sqlite", "postgresql")
CHUNK = 1 << 20  # bytes read at a time when copying and hashing
SQLITE_PAGES = 4096  # pages per step of the SQLite backup: progress, and writers are not blocked for long
SQLITE_RESTARTS = 3  # restarts by concurrent writes before the copy is made in one step

PG_BIN = ("/usr/bin", "/usr/local/bin")  # where the PostgreSQL client tools are looked for when not on PATH

Progress = Callable[[str, int, int], None]
"""Called as ``progress(step, done, total)`` during long steps (``total`` 0 when unknown)."""


@dataclass(frozen=True)
class FileEntry:
    """One file of a backup: ``path`` relative to the backup folder (``/`` separated), ``size`` [bytes]."""

    path: str
    size: int
    sha256: str


@dataclass
class Manifest:
    format: int
    zerocarbon: str
    alembic_revision: str | None
    engine: str
    created_at: str
    database_file: str
    tables: dict[str, int]
    audit_entries: int
    audit_head: str | None
    lake_files: int
    lake_bytes: int
    uploads_files: int
    files: list[FileEntry] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class BackupSummary:
    folder: Path
    manifest: Manifest
    bytes: int


@dataclass(frozen=True)
class Verification:
    """The result of checking a backup folder against its manifest; ``problems`` name the file at fault."""

    folder: Path
    manifest: Manifest | None
    problems: list[Problem]
    files_checked: int

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class RestoreSummary:
    manifest: Manifest
    engine: str
    revision_restored: str | None
    revision_now: str | None
    upgraded: bool
    tables_checked: int
    row_count_mismatches: list[str]
    lake_files: int
    lake_restored_to: Path | None
    uploads_files: int
    audit_intact: bool
    audit_entries: int
    audit_head: str | None
    audit_findings: list[str]

    @property
    def ok(self) -> bool:
        return self.audit_intact and not self.row_count_mismatches


# --- helpers -----------------------------------------------------------------------------------------------------

def _no_progress(step: str, done: int, total: int) -> None:
    return None


def _url(url: str | None) -> URL:
    text_url = database_url(url)
    try:
        return make_url(text_url)
    except ArgumentError:
        raise StorageError(f"'{text_url}' is not a database URL; use e.g. sqlite:///zerocarbon.sqlite or "
                           "postgresql+psycopg://user@host/db") from None


def _engine_name(parsed: URL) -> str:
    name = parsed.get_backend_name()
    if name not in ENGINES:
        raise StorageError(f"backup supports SQLite and PostgreSQL databases, not '{name}'")
    return name


def _sqlite_path(parsed: URL) -> Path:
    if parsed.database in (None, "", ":memory:"):
        raise StorageError("an in-memory SQLite database cannot be backed up or restored; give a file URL "
                           "such as sqlite:///zerocarbon.sqlite")
    return Path(parsed.database).expanduser().resolve()


def _tool(name: str) -> str:
    found = shutil.which(name) or next((str(Path(d) / name) for d in PG_BIN if (Path(d) / name).is_file()), None)
    if not found:
        raise StorageError(f"{name} was not found: install the PostgreSQL client tools of the server's major "
                           "version (Debian/Ubuntu: apt-get install postgresql-client) and put them on PATH")
    return found


def _libpq(parsed: URL) -> tuple[str, dict[str, str]]:
    """The connection string for pg_dump/pg_restore and the environment carrying the password (never on the
    command line, where other users of the machine could read it)."""
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _shown(parsed: URL) -> str:
    return parsed.render_as_string(hide_password=True)


def _copy_hashed(src: Path, dst: Path) -> tuple[int, str]:
    """Copy ``src`` to ``dst`` and return the size and SHA-256 of the bytes written: the hash describes the
    copy, whatever happens to ``src`` meanwhile. The caller makes the copies durable with :func:`_durable`."""
    digest, size = hashlib.sha256(), 0
    dst.parent.mkdir(parents=True, exist_ok=True)
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        while chunk := fin.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            fout.write(chunk)
    return size, digest.hexdigest()


def _durable() -> None:
    """Flush every file written so far to disk before the step that makes them count (the manifest, a rename):
    one sync for thousands of lake files instead of one fsync each."""
    os.sync()


def _hash(path: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _files_under(root: Path, pattern: str) -> list[Path]:
    """Regular files under ``root`` matching ``pattern``, leaving out dot files (a writer's temporary files)."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob(pattern)
                  if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts))


def _any_file(root: Path) -> Path | None:
    if not root.exists():
        return None
    if not root.is_dir():
        return root
    return next((p for p in root.rglob("*") if p.is_file()), None)


def _place(staged: Path, target: Path) -> None:
    """Move a staged folder to ``target`` (absent or an empty folder tree) by one rename."""
    if target.exists():
        shutil.rmtree(target)  # only empty folders: _any_file() was checked before anything was written
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staged, target)


def _revision_and_audit(conn) -> tuple[str | None, int, str | None]:
    names = set(inspect(conn).get_table_names())
    revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar() \
        if "alembic_version" in names else None
    if "audit_log" not in names:
        return revision, 0, None
    count = conn.execute(text("SELECT count(*) FROM audit_log")).scalar() or 0
    last = conn.execute(text("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")).first()
    return revision, int(count), (f"{last[0]}:{last[1]}" if last else None)


def _row_counts(conn) -> dict[str, int]:
    out = {}
    for name in sorted(inspect(conn).get_table_names()):
        quoted = conn.dialect.identifier_preparer.quote(name)
        out[name] = int(conn.execute(text(f"SELECT count(*) FROM {quoted}")).scalar() or 0)
    return out


def _script_revisions() -> tuple[set[str], str | None]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("zerocarbon.store") / "migrations"))
    script = ScriptDirectory.from_config(cfg)
    return {r.revision for r in script.walk_revisions()}, script.get_current_head()


# --- create ------------------------------------------------------------------------------------------------------

def create(folder: str | Path, db_url: str | None = None, lake: str | Path | None = None,
           data_dir: str | Path | None = None, progress: Progress | None = None) -> BackupSummary:
    """Back up the database at ``db_url`` (default $ZEROCARBON_DB), the meter lake at ``lake`` and the spooled
    uploads under ``data_dir`` into the new folder ``folder``.

    The database is copied consistently while it is in use (SQLite's backup API; ``pg_dump`` in an exported
    snapshot that the manifest's row counts and audit head are read from). Lake files are copied one at a time
    with the SHA-256 of the bytes copied. The backup is assembled in a hidden sibling folder and renamed to
    ``folder`` when complete, so a folder with that name is never a partial backup.

    Raises InputError when ``folder`` is not empty or ``lake``/``data_dir`` are not folders, StorageError when
    the database cannot be read or pg_dump fails.
    """
    progress = progress or _no_progress
    folder = Path(folder).expanduser().resolve()
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise InputError([Problem(str(folder), None, None, "exists and is not an empty folder; a backup goes into "
                                                           "a new folder (e.g. one named by the date)")])
    lake_root = Path(lake).expanduser().resolve() if lake else None
    if lake_root is not None and not lake_root.is_dir():
        raise InputError([Problem("--lake", None, None, f"{lake_root} is not a folder")])
    uploads_root = Path(data_dir).expanduser().resolve() / "uploads" if data_dir else None
    if data_dir and not Path(data_dir).expanduser().is_dir():
        raise InputError([Problem("--data-dir", None, None, f"{Path(data_dir).expanduser().resolve()} is not a folder")])
    parsed = _url(db_url)
    engine_name = _engine_name(parsed)

    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.parent / f".{folder.name}.partial-{uuid.uuid4().hex[:8]}"
    # Owner-only: a backup holds every organisation's data and the password, session and token hashes.
    staging.mkdir(mode=0o700)
    try:
        if engine_name == "sqlite":
            db_file, revision, tables, audit_entries, audit_head = _sqlite_backup(parsed, staging, progress)
        else:
            db_file, revision, tables, audit_entries, audit_head = _pg_backup(parsed, staging, progress)
        size, digest = _hash(staging / db_file)
        files = [FileEntry(db_file, size, digest)]

        lake_files = _files_under(lake_root, "*.parquet") if lake_root else []
        for i, src in enumerate(lake_files):
            progress("lake", i, len(lake_files))
            rel = PurePosixPath(LAKE, *src.relative_to(lake_root).parts)
            try:
                size, digest = _copy_hashed(src, staging / rel)
            except FileNotFoundError:
                raise StorageError(f"lake file {src} disappeared while the backup was copying the lake (a lake "
                                   "migration running?); run the backup again") from None
            files.append(FileEntry(str(rel), size, digest))
        progress("lake", len(lake_files), len(lake_files))

        uploads = _files_under(uploads_root, "*") if uploads_root else []
        for i, src in enumerate(uploads):
            progress("uploads", i, len(uploads))
            rel = PurePosixPath(UPLOADS, *src.relative_to(uploads_root).parts)
            try:
                size, digest = _copy_hashed(src, staging / rel)
            except FileNotFoundError:
                continue  # the job finished and removed its upload meanwhile: nothing is waiting for it any more
            files.append(FileEntry(str(rel), size, digest))

        manifest = Manifest(FORMAT, __version__, revision, engine_name,
                            datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), db_file, tables,
                            audit_entries, audit_head, len(lake_files),
                            sum(f.size for f in files if f.path.startswith(LAKE + "/")),
                            sum(1 for f in files if f.path.startswith(UPLOADS + "/")), files)
        _durable()
        (staging / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
        if folder.exists():
            folder.rmdir()
        os.replace(staging, folder)
        _durable()
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return BackupSummary(folder, manifest, sum(f.size for f in files))


class _Busy(Exception):
    """Concurrent writes keep restarting the stepwise SQLite backup."""


def _sqlite_backup(parsed: URL, staging: Path, progress: Progress):
    path = _sqlite_path(parsed)
    if not path.is_file():
        raise StorageError(f"no database at {path}; check --db")
    target = staging / SQLITE_FILE
    try:
        source = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise StorageError(f"cannot open the database {path}: {exc}") from None
    copy = sqlite3.connect(target)
    restarts, last = 0, None

    def step(_status, remaining: int, total: int) -> None:
        nonlocal restarts, last
        if last is not None and remaining >= last:  # a write restarted the copy: no progress this step
            restarts += 1
            if restarts > SQLITE_RESTARTS:
                raise _Busy
        last = remaining
        progress("database", total - remaining, total)

    try:
        # The backup API copies pages while other connections keep writing; a write between steps restarts it,
        # so the copy is always one consistent state of the database, which a file copy of a live database
        # (or of its -wal file) is not. A steady writer could restart it for ever: after a few restarts the
        # copy is made in one step, which holds a read lock for its duration (writers wait, nothing is lost).
        try:
            source.backup(copy, pages=SQLITE_PAGES, progress=step)
        except _Busy:
            progress("database", 0, 0)
            source.backup(copy, pages=-1)
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"cannot read the database {path}: {exc}") from None
    finally:
        source.close()
        copy.close()
    engine = make_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as conn:
            check = conn.exec_driver_sql("PRAGMA quick_check").scalar()
            if check != "ok":
                raise StorageError(f"the database {path} is damaged ({check}); it was not backed up. Restore the "
                                   "last good backup or repair it with the sqlite3 shell's .recover")
            revision, entries, head = _revision_and_audit(conn)
            tables = _row_counts(conn)
    finally:
        engine.dispose()
    if revision is None:
        raise StorageError(f"{path} is not a zerocarbon database (no schema revision); check --db")
    return SQLITE_FILE, revision, tables, entries, head


def _pg_backup(parsed: URL, staging: Path, progress: Progress):
    pg_dump = _tool("pg_dump")
    conninfo, env = _libpq(parsed)
    engine = make_engine(parsed.render_as_string(hide_password=False))
    target = staging / PG_FILE
    try:
        try:
            conn = engine.connect().execution_options(isolation_level="REPEATABLE READ")
        except OperationalError as exc:
            raise StorageError(f"cannot open the database {_shown(parsed)}: "
                               f"{str(exc.orig).strip().splitlines()[0] if exc.orig else exc}") from None
        with conn, conn.begin():
            # pg_dump joins this transaction's snapshot: the dump, the row counts and the audit head in the
            # manifest describe the same instant even while the application keeps writing.
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar()
            revision, entries, head = _revision_and_audit(conn)
            if revision is None:
                raise StorageError(f"{_shown(parsed)} is not a zerocarbon database (no schema revision); check --db")
            tables = _row_counts(conn)
            _run_with_progress([pg_dump, "--format=custom", "--verbose", f"--snapshot={snapshot}",
                                f"--file={target}", f"--dbname={conninfo}"], env, "database",
                               len(tables), re.compile(r"dumping contents of table"), progress, "pg_dump")
    finally:
        engine.dispose()
    return PG_FILE, revision, tables, entries, head


def _die_with_parent() -> None:
    """In the child, before exec: a killed zerocarbon takes its pg_restore with it, whose connection then drops
    and the server rolls the restore back, rather than leaving a restore to finish that nobody checks. (Its
    next --verbose line into the closed pipe would end it too; this does not wait for one.)"""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL
    except (OSError, AttributeError):  # not Linux: the tool outlives a killed parent
        pass


def _run_with_progress(cmd: list[str], env: dict, step: str, total: int, marker: re.Pattern, progress: Progress,
                       name: str, after_failure: str = "") -> None:
    """Run a PostgreSQL client tool, counting the ``--verbose`` lines that mark a table done; its messages are
    kept for the error."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            errors="replace", preexec_fn=_die_with_parent)
    lines, done = [], 0
    progress(step, 0, total)
    assert proc.stderr is not None
    for line in proc.stderr:
        lines.append(line.rstrip())
        if marker.search(line):
            done += 1
            progress(step, min(done, total), total)
    if proc.wait() != 0:
        errors = [ln for ln in lines if "error" in ln.lower() or "fatal" in ln.lower()] or lines[-5:]
        raise StorageError(f"{name} failed (exit {proc.returncode}): " + " | ".join(errors[:5]) + after_failure)
    progress(step, total, total)


# --- verify ------------------------------------------------------------------------------------------------------

def _read_manifest(folder: Path) -> tuple[Manifest | None, list[Problem]]:
    path = folder / MANIFEST
    where = str(path)
    if not folder.exists():
        return None, [Problem(str(folder), None, None, "does not exist")]
    if not folder.is_dir():
        return None, [Problem(str(folder), None, None, "is not a folder")]
    if not path.is_file():
        return None, [Problem(where, None, None, "missing: this folder is not a complete zerocarbon backup")]
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        files = [FileEntry(str(f["path"]), int(f["size"]), str(f["sha256"])) for f in raw.pop("files")]
        manifest = Manifest(**raw, files=files)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
        return None, [Problem(where, None, None, f"cannot be read ({type(exc).__name__}: {exc})")]
    problems = []
    if manifest.format != FORMAT:
        problems.append(Problem(where, None, "format", f"backup format {manifest.format}; this zerocarbon reads "
                                                       f"format {FORMAT}"))
    if manifest.engine not in ENGINES:
        problems.append(Problem(where, None, "engine", f"unknown engine '{manifest.engine}'"))
    expected_file = {"sqlite": SQLITE_FILE, "postgresql": PG_FILE}.get(manifest.engine)
    if manifest.database_file != expected_file or manifest.database_file not in {f.path for f in manifest.files}:
        problems.append(Problem(where, None, "database_file", f"'{manifest.database_file}' is not the {manifest.engine} "
                                                              "database file listed among the files"))
    if not isinstance(manifest.alembic_revision, str) or not re.fullmatch(r"[0-9A-Za-z_]{1,32}",
                                                                          manifest.alembic_revision):
        problems.append(Problem(where, None, "alembic_revision", f"{manifest.alembic_revision!r} is not a schema "
                                                                 "revision"))
    if manifest.audit_head is not None and not re.fullmatch(r"[0-9]+:[0-9a-f]{64}", str(manifest.audit_head)):
        problems.append(Problem(where, None, "audit_head", f"{manifest.audit_head!r} is not SEQ:HASH"))
    if not isinstance(manifest.tables, dict) or not all(isinstance(k, str) and isinstance(v, int)
                                                        for k, v in manifest.tables.items()):
        problems.append(Problem(where, None, "tables", "is not a table of row counts"))
    for f in manifest.files:
        p = PurePosixPath(f.path)
        if p.is_absolute() or ".." in p.parts or not p.parts or "\\" in f.path or not re.fullmatch(r"[0-9a-f]{64}",
                                                                                                   f.sha256):
            problems.append(Problem(where, None, "files", f"entry '{f.path}' is not a plain relative path with a "
                                                          "SHA-256; the manifest was altered"))
    return manifest, problems


def verify(folder: str | Path, progress: Progress | None = None) -> Verification:
    """Check every file of the backup at ``folder`` against its manifest: present, same size, same SHA-256, and
    no file the manifest does not list. Reads everything; writes nothing."""
    progress = progress or _no_progress
    folder = Path(folder).expanduser().resolve()
    if not folder.exists():  # a wrong name, not a damaged backup
        raise NotFoundError(f"no backup at {folder}")
    manifest, problems = _read_manifest(folder)
    if manifest is None or problems:
        return Verification(folder, manifest, problems, 0)
    listed = {f.path for f in manifest.files}
    total = sum(f.size for f in manifest.files)
    done = 0
    for f in manifest.files:
        path = folder / f.path
        progress("verify", done, total)
        if not path.is_file():
            problems.append(Problem(f.path, None, None, "missing from the backup"))
            continue
        size, digest = _hash(path)
        done += f.size
        if size != f.size:
            problems.append(Problem(f.path, None, None, f"size {size} bytes, the manifest says {f.size}: the file "
                                                        "was changed or cut short"))
        elif digest != f.sha256:
            problems.append(Problem(f.path, None, None, "SHA-256 differs from the manifest: the file was changed"))
    progress("verify", total, total)
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if rel != MANIFEST and rel not in listed:
            problems.append(Problem(rel, None, None, "not listed in the manifest: it was added after the backup"))
    return Verification(folder, manifest, problems, len(manifest.files))


# --- restore -----------------------------------------------------------------------------------------------------

def restore(folder: str | Path, db_url: str, lake: str | Path | None = None, data_dir: str | Path | None = None,
            without_lake: bool = False, progress: Progress | None = None) -> RestoreSummary:
    """Restore the backup at ``folder`` into the empty database at ``db_url`` (and the lake into ``lake``, the
    uploads under ``data_dir``), then upgrade an older schema and verify the audit chain against the head the
    manifest recorded.

    Nothing is written unless the whole backup matches its manifest, its schema is one this code knows, its
    engine is the target's, and the database, lake folder and uploads folder hold nothing yet. A backup holding
    a lake needs ``lake`` or ``without_lake=True``.

    Raises InputError (naming each file or target at fault), StateError for a backup of a newer schema,
    StorageError when the database tool fails (nothing is kept: SQLite is swapped in by one rename, PostgreSQL
    restored in one transaction).
    """
    progress = progress or _no_progress
    check = verify(folder, progress)
    if not check.ok:
        raise InputError(check.problems)
    manifest = check.manifest
    assert manifest is not None
    known, head = _script_revisions()
    if manifest.alembic_revision not in known:
        raise StateError(f"the backup holds schema revision {manifest.alembic_revision} (zerocarbon "
                         f"{manifest.zerocarbon}), newer than this zerocarbon {__version__} knows (head {head}); "
                         f"restore it with zerocarbon {manifest.zerocarbon} or later")
    parsed = _url(db_url)
    engine_name = _engine_name(parsed)
    if engine_name != manifest.engine:
        raise InputError([Problem("--db", None, None,
                                  f"the backup is of a {manifest.engine} database and restores into {manifest.engine} "
                                  f"only, not {engine_name}: a backup is the engine's own copy "
                                  "(docs/operations.md, 'Moving between engines')")])

    problems = []
    lake_root = Path(lake).expanduser().resolve() if lake else None
    lake_entries = [f for f in manifest.files if f.path.startswith(LAKE + "/")]
    if lake_root is None and lake_entries and not without_lake:
        problems.append(Problem("--lake", None, None, f"the backup holds the meter lake ({len(lake_entries)} "
                                                      "files); give --lake PATH to restore it, or --without-lake"))
    if lake_root is not None and not lake_entries:
        problems.append(Problem("--lake", None, None, "the backup holds no meter lake"))
    if lake_root is not None and (found := _any_file(lake_root)):
        problems.append(Problem("--lake", None, None, f"{lake_root} already holds files ({found}); restore into a "
                                                      "new or empty folder"))
    upload_entries = [f for f in manifest.files if f.path.startswith(UPLOADS + "/")]
    uploads_root = Path(data_dir).expanduser().resolve() / "uploads" if data_dir else None
    if uploads_root is not None and upload_entries and (found := _any_file(uploads_root)):
        problems.append(Problem("--data-dir", None, None, f"{uploads_root} already holds files ({found})"))
    problems += _target_problems(parsed, engine_name)
    if problems:
        raise InputError(problems)

    staged_lake = staged_uploads = None
    try:
        if lake_root is not None:
            staged_lake = lake_root.parent / f".{lake_root.name}.restoring-{uuid.uuid4().hex[:8]}"
            _stage(check.folder, lake_entries, LAKE, staged_lake, "lake", progress)
        if uploads_root is not None and upload_entries:
            staged_uploads = uploads_root.parent / f".uploads.restoring-{uuid.uuid4().hex[:8]}"
            _stage(check.folder, upload_entries, UPLOADS, staged_uploads, "uploads", progress)
        _durable()
        if engine_name == "sqlite":
            _sqlite_restore(check.folder, manifest, parsed, progress)
        else:
            _pg_restore(check.folder, manifest, parsed, progress)
        if staged_lake is not None:
            _place(staged_lake, lake_root)
            staged_lake = None
        if staged_uploads is not None:
            _place(staged_uploads, uploads_root)
            staged_uploads = None
        _durable()
    finally:
        for staged in (staged_lake, staged_uploads):
            if staged is not None:
                shutil.rmtree(staged, ignore_errors=True)
    return _after_restore(manifest, parsed, engine_name, head, lake_root, len(upload_entries) if uploads_root else 0,
                          progress)


def _target_problems(parsed: URL, engine_name: str) -> list[Problem]:
    if engine_name == "sqlite":
        path = _sqlite_path(parsed)
        if not path.parent.is_dir():
            return [Problem("--db", None, None, f"folder {path.parent} does not exist")]
        if path.is_dir():
            return [Problem("--db", None, None, f"{path} is a folder, not a database file")]
        leftovers = [p.name for p in (path.with_name(path.name + "-journal"), path.with_name(path.name + "-wal"))
                     if p.exists()]
        if leftovers:
            # SQLite would replay a journal left by an earlier database of that name into the restored file.
            return [Problem("--db", None, None, f"{', '.join(leftovers)} from an earlier database lie beside "
                                                f"{path.name}; move them away or restore under another name")]
        if not path.exists() or path.stat().st_size == 0:
            return []
        try:
            conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
            try:
                tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            finally:
                conn.close()
        except sqlite3.DatabaseError as exc:
            return [Problem("--db", None, None, f"{path} exists and is not an empty SQLite database ({exc})")]
        if tables:
            return [Problem("--db", None, None, f"{path} is not empty ({len(tables)} tables, e.g. "
                                                f"{', '.join(sorted(tables)[:3])}); restore into a new file, or "
                                                "move this one away first")]
        return []
    engine = make_engine(parsed.render_as_string(hide_password=False))
    try:
        with engine.connect() as conn:
            tables = conn.execute(text(
                "SELECT table_schema || '.' || table_name FROM information_schema.tables "
                "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') "
                "AND table_schema NOT LIKE 'pg_toast%' ORDER BY 1")).scalars().all()
    except OperationalError as exc:
        return [Problem("--db", None, None, f"cannot open the database {_shown(parsed)}: "
                                            f"{str(exc.orig).strip().splitlines()[0] if exc.orig else exc} "
                                            "(create it first, e.g. `createdb NAME`)")]
    finally:
        engine.dispose()
    if tables:
        return [Problem("--db", None, None, f"the database {_shown(parsed)} is not empty ({len(tables)} tables, e.g. "
                                            f"{', '.join(tables[:3])}); restore into a new database "
                                            "(`createdb NAME`)")]
    return []


def _stage(folder: Path, entries: list[FileEntry], prefix: str, staged: Path, step: str, progress: Progress) -> None:
    """Copy the backup's files under ``prefix`` to ``staged``, checking each copy's hash again: the backup may
    have changed since it was verified."""
    staged.mkdir(parents=True)
    for i, f in enumerate(entries):
        progress(step, i, len(entries))
        size, digest = _copy_hashed(folder / f.path, staged / PurePosixPath(f.path).relative_to(prefix))
        if (size, digest) != (f.size, f.sha256):
            raise InputError([Problem(f.path, None, None, "changed while it was being restored; nothing was kept")])
    progress(step, len(entries), len(entries))


def _sqlite_restore(folder: Path, manifest: Manifest, parsed: URL, progress: Progress) -> None:
    path = _sqlite_path(parsed)
    entry = next(f for f in manifest.files if f.path == manifest.database_file)
    tmp = path.with_name(f".{path.name}.restoring-{uuid.uuid4().hex[:8]}")
    try:
        progress("database", 0, 1)
        size, digest = _copy_hashed(folder / entry.path, tmp)
        if (size, digest) != (entry.size, entry.sha256):
            raise InputError([Problem(entry.path, None, None, "changed while it was being restored; nothing was "
                                                              "kept")])
        conn = sqlite3.connect(tmp)
        try:
            check = conn.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            conn.close()
        if check != "ok":
            raise StorageError(f"the database in the backup is damaged ({check}); nothing was restored")
        os.chmod(tmp, 0o600)  # the database holds the password, session and token hashes
        _durable()
        os.replace(tmp, path)  # one rename: the target is either still empty or the whole copy
        progress("database", 1, 1)
    finally:
        tmp.unlink(missing_ok=True)


def _pg_restore(folder: Path, manifest: Manifest, parsed: URL, progress: Progress) -> None:
    pg_restore = _tool("pg_restore")
    conninfo, env = _libpq(parsed)
    # --single-transaction: an error anywhere leaves the target as empty as it was. Owners and grants are those
    # of the source server's roles, which the target server need not have.
    _run_with_progress([pg_restore, "--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges",
                        "--verbose", f"--dbname={conninfo}", str(folder / manifest.database_file)], env, "database",
                       len(manifest.tables), re.compile(r"processing data for table"), progress, "pg_restore",
                       "; the restore ran as one transaction, so the target database is still empty")


def _after_restore(manifest: Manifest, parsed: URL, engine_name: str, head: str | None, lake_root: Path | None,
                   uploads: int, progress: Progress) -> RestoreSummary:
    from zerocarbon.services import audit

    engine = make_engine(parsed.render_as_string(hide_password=False))
    try:
        with engine.connect() as conn:
            counts = _row_counts(conn)
        mismatches = [f"{t}: {counts.get(t)} rows restored, {n} backed up" for t, n in sorted(manifest.tables.items())
                      if counts.get(t) != n]
        upgraded = manifest.alembic_revision != head
        if upgraded:
            progress("upgrade", 0, 1)
            upgrade(engine)
            progress("upgrade", 1, 1)
        with engine.connect() as conn:
            revision_now = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        progress("audit", 0, 1)
        check = audit.verify(session_factory(engine), manifest.audit_head)
        progress("audit", 1, 1)
    finally:
        engine.dispose()
    return RestoreSummary(manifest, engine_name, manifest.alembic_revision, revision_now, upgraded, len(manifest.tables),
                          mismatches, manifest.lake_files if lake_root else 0, lake_root, uploads, check.intact,
                          check.entries, f"{check.head_seq}:{check.head_hash}" if check.head_seq else None,
                          [str(f) for f in check.findings])


__all__ = ["create", "verify", "restore", "Manifest", "FileEntry", "BackupSummary", "Verification",
           "RestoreSummary", "Progress"]
