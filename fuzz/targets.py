"""Every importer as a fuzz target: ``run(data)`` turns one input (bytes) into a call of the product's own
import path and checks what the product promises for hostile input.

The promise, per call: the call either succeeds, or raises the product's validation error (``InputError`` and
its subclasses, ``MessageError`` for a live message, ``ConflictError`` for a clash with stored data) whose problems name the file; and when it raises, the
application database holds exactly the rows it held before (all or nothing). Anything else -- another
exception, a problem without a file, a row written on error -- is a crash: ``run`` lets it propagate (or raises
``AssertionError``), which atheris and the tests report.

The first bytes of an input choose between variants (the activity kind, CSV or XLSX, ...): a crash file holds
everything needed to replay it (``tests/data/fuzz/<target>/``, replayed by ``tests/test_fuzz_importers.py``).
"""
from __future__ import annotations

import csv
import io
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
CORPUS = ROOT / "tests" / "data" / "fuzz"
ORG = "ACME"
YEAR = 2025


@dataclass
class Env:
    """One SQLite database with the example organisation and its suppliers, shared by every input of a run."""

    tmp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="zc-fuzz-")))
    _sessions: object = None

    @property
    def sessions(self):
        if self._sessions is None:
            from zerocarbon.services import accounting, suppliers
            from zerocarbon.services.database import open_sessions

            self._sessions = open_sessions(f"sqlite:///{self.tmp / 'fuzz.sqlite'}")
            accounting.load_organisation_file(self._sessions, EXAMPLES / "organisation.yaml", actor="fuzz")
            suppliers.import_suppliers(self._sessions, ORG, "suppliers.csv",
                                       (EXAMPLES / "supply" / "suppliers.csv").read_bytes(), actor="fuzz")
        return self._sessions

    def file(self, suffix: str, data: bytes) -> Path:
        d = Path(tempfile.mkdtemp(dir=self.tmp))
        path = d / f"input{suffix}"
        path.write_bytes(data)
        return path

    def counts(self) -> dict[str, int]:
        """Rows per table of the application database."""
        from sqlalchemy import func, select

        from zerocarbon.store.tables import Base

        with self.sessions() as s:
            return {t.name: s.execute(select(func.count()).select_from(t)).scalar_one()
                    for t in Base.metadata.sorted_tables}


_ENV: Env | None = None


def env() -> Env:
    global _ENV
    if _ENV is None:
        _ENV = Env()
    return _ENV


# -- how an input's bytes become files ------------------------------------------------------------------------

def rows_of(text: str) -> list[list[str]]:
    """The cells of a CSV text, read leniently (the fuzzed text need not be well-formed CSV)."""
    text = text.replace("\x00", "")
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error:
        return [line.split(",") for line in text.splitlines()]


def xlsx_bytes(rows: list[list[str]], sheet: str = "data", extra_sheet: bool = False) -> bytes:
    """A workbook holding ``rows``; a cell that starts with '=' is written as a formula without a saved value,
    a cell that reads as a number as a number, as a spreadsheet program would store them."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = (sheet or "data")[:31]
    for r in rows[:2000]:
        out = []
        for v in r[:200]:
            try:
                out.append(float(v) if v.strip() and not v.startswith("=") else v)
            except ValueError:
                out.append(v)
        ws.append(["".join(ch for ch in str(v) if ch >= " " or ch in "\t\n") if isinstance(v, str) else v
                   for v in out])
    if extra_sheet:
        wb.create_sheet("other").append(["x"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def parquet_bytes(rows: list[list[str]]) -> bytes:
    """A Parquet file of ``rows`` (the first is the header); a column whose cells all read as numbers is stored
    as numbers, as a data logger's export would."""
    import pandas as pd

    header = [h or f"c{i}" for i, h in enumerate(rows[0])] if rows else ["meter"]
    header = [h if header.index(h) == i else f"{h}.{i}" for i, h in enumerate(header)]
    body = [(r + [""] * len(header))[:len(header)] for r in rows[1:2001]]
    df = pd.DataFrame(body, columns=header)
    for c in df.columns:
        num = pd.to_numeric(df[c], errors="coerce")
        if len(df) and num.notna().all():
            df[c] = num
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


def table_file(mode: int, payload: bytes) -> tuple[str, bytes]:
    """(suffix, bytes) of a table input: ``mode`` 0-1 CSV as given, 2 XLSX of the CSV's cells, 3 the same with a
    second sheet, 4 the bytes as an .xlsx (a broken or truncated workbook), 5 an unsupported suffix."""
    mode %= 6
    if mode <= 1:
        return ".csv", payload
    if mode in (2, 3):
        return ".xlsx", xlsx_bytes(rows_of(payload.decode("utf-8", "replace")), extra_sheet=mode == 3)
    if mode == 4:
        return ".xlsx", payload
    return ".txt", payload


def split(data: bytes, n: int) -> tuple[list[int], bytes]:
    """The first ``n`` bytes as selector numbers and the rest as the payload."""
    head = list(data[:n]) + [0] * (n - len(data[:n]))
    return head, data[n:]


# -- the product's allowed refusals -----------------------------------------------------------------------------

def allowed() -> tuple[type, ...]:
    from zerocarbon.errors import ConflictError, InputError, MessageError

    # ConflictError: the file differs from what is stored under the same key (a changed index system under an
    # unchanged version); it names the thing and what to do, and writes nothing, as an InputError does.
    return InputError, MessageError, ConflictError


def _check_problems(exc: BaseException) -> None:
    from zerocarbon.errors import InputError

    if isinstance(exc, InputError):
        assert exc.problems, f"an InputError without problems: {exc!r}"
        for p in exc.problems:
            assert p.source, f"a problem that names no file: {p!r}"
            assert p.reason, f"a problem without a reason: {p!r}"


def guarded(call: Callable[[], object], writes: bool) -> str:
    """Run ``call`` as one input: 'ok' or 'refused'; an unexpected exception or a write on error propagates."""
    e = env()
    before = e.counts() if writes else None
    try:
        call()
    except allowed() as exc:
        _check_problems(exc)
        if writes:
            after = e.counts()
            changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
            assert not changed, f"rows written although the input was refused: {changed}"
        return "refused"
    return "ok"


# -- the targets ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    name: str
    run: Callable[[bytes], str]
    seeds: Callable[[], list[bytes]]
    about: str


def _activity_kinds() -> tuple[str, ...]:
    from zerocarbon.services.formats import ACTIVITY_KINDS

    return ACTIVITY_KINDS


def run_activity(data: bytes) -> str:
    """Byte 0: activity kind; byte 1: table mode (see ``table_file``); rest: the file."""
    from zerocarbon.services import accounting

    (k, mode), payload = split(data, 2)
    kinds = _activity_kinds()
    kind = kinds[k % len(kinds)]
    suffix, body = table_file(mode, payload)
    path = env().file(suffix, body)
    return guarded(lambda: accounting.import_file(env().sessions, ORG, kind, path, YEAR, "CN-2025.1",
                                                  actor="fuzz"), writes=True)


def seeds_activity() -> list[bytes]:
    kinds = _activity_kinds()
    out = []
    for f in sorted(EXAMPLES.glob("*_2025.csv")) + sorted((EXAMPLES / "supply").glob("*_2025.csv")):
        kind = f.name.rsplit("_", 1)[0]
        if kind in kinds:
            out.append(bytes([kinds.index(kind), 0]) + f.read_bytes())
            out.append(bytes([kinds.index(kind), 2]) + f.read_bytes())
    return out


def run_credits(data: bytes) -> str:
    from zerocarbon.services import claims

    (mode,), payload = split(data, 1)
    suffix, body = table_file(mode, payload)
    return guarded(lambda: claims.import_credits(env().sessions, ORG, f"credits{suffix}", body, actor="fuzz"),
                   writes=True)


def run_claim_plan(data: bytes) -> str:
    from zerocarbon.services import claims

    return guarded(lambda: claims.parse_plan("plan.yaml", data), writes=False)


def run_suppliers(data: bytes) -> str:
    """Byte 0: which supplier file (registry, answers, projects, green specification); byte 1: table mode."""
    from zerocarbon.services import suppliers

    (which, mode), payload = split(data, 2)
    which %= 4
    s = env().sessions
    if which == 3:
        return guarded(lambda: suppliers.set_spec(s, ORG, "spec.yaml", payload, actor="fuzz"), writes=True)
    suffix, body = table_file(mode, payload)
    name = f"file{suffix}"
    if which == 0:
        return guarded(lambda: suppliers.import_suppliers(s, ORG, name, body, actor="fuzz"), writes=True)
    evidence = {p.name: p.read_bytes() for p in (EXAMPLES / "supply").glob("S004_*.txt")}
    if which == 1:
        return guarded(lambda: suppliers.submit(s, ORG, "S004", name, body, evidence, actor="fuzz"), writes=True)
    return guarded(lambda: suppliers.submit_projects(s, ORG, "S004", name, body, evidence, actor="fuzz"),
                   writes=True)


def seeds_suppliers() -> list[bytes]:
    sup = EXAMPLES / "supply"
    return [bytes([0, 0]) + (sup / "suppliers.csv").read_bytes(),
            bytes([1, 0]) + (sup / "S004_answers_2025.csv").read_bytes(),
            bytes([2, 0]) + (sup / "S004_projects.csv").read_bytes(),
            bytes([1, 2]) + (sup / "S004_answers_2025.csv").read_bytes(),
            bytes([3, 0]) + (ROOT / "src/zerocarbon/data/supply/green_spec.yaml").read_bytes()]


def run_pact(data: bytes) -> str:
    from zerocarbon.services import footprints

    path = env().file(".json", data)
    return guarded(lambda: footprints.import_file(env().sessions, ORG, path, actor="fuzz", source="pact.json"),
                   writes=True)


def run_index_system(data: bytes) -> str:
    from zerocarbon.services import assessment

    return guarded(lambda: assessment.add_system(env().sessions, ORG, "index.yaml", data, actor="fuzz"),
                   writes=True)


def run_disclosure(data: bytes) -> str:
    from zerocarbon.services import disclosure

    path = env().file(".yaml", data)
    return guarded(lambda: disclosure.import_inputs(env().sessions, ORG, YEAR, path, actor="fuzz",
                                                    source="inputs.yaml"), writes=True)


RULES_MARK = b"\n#--rules--\n"


def run_factor_set(data: bytes) -> str:
    """The factor CSV, then ``RULES_MARK``, then the rules YAML."""
    from zerocarbon.services import factor_sets

    csv_data, _, rules = data.partition(RULES_MARK)
    return guarded(lambda: factor_sets.import_upload(env().sessions, ORG, "SUPPLIER-X", "factors.csv", csv_data,
                                                     "rules.yaml", rules, actor="fuzz"), writes=True)


def run_organisation(data: bytes) -> str:
    from zerocarbon.services import accounting

    path = env().file(".yaml", data)
    return guarded(lambda: accounting.load_organisation_file(env().sessions, path, actor="fuzz"), writes=True)


def run_outputs(data: bytes) -> str:
    from zerocarbon.services import targets

    (mode,), payload = split(data, 1)
    suffix, body = table_file(mode, payload)
    path = env().file(suffix, body)
    return guarded(lambda: targets.import_outputs(env().sessions, ORG, path, name=f"outputs{suffix}",
                                                  actor="fuzz"), writes=True)


def run_schedule(data: bytes) -> str:
    """Byte 0: 0-1 a plant problem (JSON), 2 a problem with an orders table (rest: JSON, ``RULES_MARK``, CSV),
    3 a Taillard instance, 4 an FJS instance."""
    from zerocarbon.io import schedule_files
    from zerocarbon.services import scheduling

    (which,), payload = split(data, 1)
    which %= 5
    if which <= 1:
        return guarded(lambda: scheduling.read_problem(env().file(".json", payload)), writes=False)
    if which == 2:
        problem, _, orders = payload.partition(RULES_MARK)
        return guarded(lambda: scheduling.read_problem(env().file(".json", problem), env().file(".csv", orders)),
                       writes=False)
    if which == 3:
        return guarded(lambda: schedule_files.read_taillard(env().file(".txt", payload)), writes=False)
    return guarded(lambda: schedule_files.read_fjs(env().file(".fjs", payload)), writes=False)


def seeds_schedule() -> list[bytes]:
    t = ROOT / "tests" / "data"
    return [b"\0" + (EXAMPLES / "schedule" / "one_line_day_15min.json").read_bytes(),
            b"\3" + (t / "tiny_taillard.txt").read_bytes(), b"\4" + (t / "tiny.fjs").read_bytes()]


def run_pathway(data: bytes) -> str:
    from zerocarbon.services import pathway

    return guarded(lambda: pathway.read_scenario(data, "scenario.yaml"), writes=False)


def run_mqtt(data: bytes) -> str:
    """The topic's last part is byte 0 (a meter of the example registry or not); rest: the payload. The readings
    that parse are judged by the file rules, as the ingest worker does before it writes."""
    from zerocarbon.io import mqtt
    from zerocarbon.services import ingest, meter_import

    (m,), payload = split(data, 1)
    meters = _registry()
    ids = sorted(meters) + ["UNKNOWN"]
    topic = f"zc/{ORG}/TJ01/hall/line/{ids[m % len(ids)]}"

    def call():
        raws = mqtt.parse_message(topic, payload)
        ingest.check_readings(raws, meters)

    del meter_import
    return guarded(call, writes=False)


_REG: dict | None = None


def _registry() -> dict:
    global _REG
    if _REG is None:
        from zerocarbon.io.meter_files import read_registry

        _REG = read_registry(EXAMPLES / "meters" / "registry.csv")
    return _REG


def seeds_mqtt() -> list[bytes]:
    return [b"\0" + b'{"v": 1, "unit": "kWh", "readings": [{"ts": "2026-06-01T00:00:00+08:00", "value": 335.6}]}',
            b"\1" + b'{"v": 1, "unit": "kWh", "stamp": "end", "interval_min": 15, "ts": "2026-06-01 00:15", '
                    b'"value": 12}']


def run_meter(data: bytes) -> str:
    """Parsing of meter files (io/meter_files.py): byte 0 chooses readings CSV (0), readings Parquet of the
    CSV's cells (1, numbers as numbers),
    readings Parquet (2: the bytes as a Parquet file), registry CSV (3), file profile YAML (4); then the
    readings are normalised against the example registry as the bulk import does before it writes."""
    from zerocarbon.io import meter_files
    from zerocarbon.services import meter_import

    (which,), payload = split(data, 1)
    which %= 5
    if which == 3:
        return guarded(lambda: meter_files.read_registry(env().file(".csv", payload)), writes=False)
    if which == 4:
        return guarded(lambda: meter_files.read_profile(env().file(".yaml", payload)), writes=False)
    if which == 0:
        path = env().file(".csv", payload)
    elif which == 1:
        path = env().file(".parquet", parquet_bytes(rows_of(payload.decode("utf-8", "replace"))))
    else:
        path = env().file(".parquet", payload)

    def call():
        raw = meter_files.read_readings(path)
        meter_import.normalise(raw, _registry(), path.name)

    return guarded(call, writes=False)


def seeds_meter() -> list[bytes]:
    m = EXAMPLES / "meters"
    head = b"\n".join((m / "readings_2026-06.csv").read_bytes().split(b"\n")[:60]) + b"\n"
    return [b"\0" + head, b"\3" + (m / "registry.csv").read_bytes(),
            b"\4" + (m / "utility_export.profile.yaml").read_bytes(), b"\1" + head]


def run_energy_inputs(data: bytes) -> str:
    """Byte 0: production (0), temperature (1) or carbon-intensity series (2) file; byte 1: table mode."""
    from zerocarbon.io import energy_inputs, intensity_series

    (which, mode), payload = split(data, 2)
    which %= 3
    suffix, body = table_file(mode if which < 2 else 0, payload)
    path = env().file(suffix, body)
    if which == 0:
        return guarded(lambda: energy_inputs.read_production(path, "Asia/Shanghai", {m.line for m in _registry().values() if m.line}), writes=False)
    if which == 1:
        return guarded(lambda: energy_inputs.read_temperature(path, "Asia/Shanghai"), writes=False)
    return guarded(lambda: intensity_series.read_intensity_series(path), writes=False)


def seeds_energy_inputs() -> list[bytes]:
    m = EXAMPLES / "meters"
    series = sorted((ROOT / "src/zerocarbon/data/series").glob("*.csv"))
    return ([b"\0\0" + (m / "production_daily_2026.csv").read_bytes()]
            + [b"\2\0" + s.read_bytes() for s in series[:1]])


def _files(*paths) -> Callable[[], list[bytes]]:
    return lambda: [Path(p).read_bytes() for p in paths]


def _prefixed(prefix: bytes, *paths) -> Callable[[], list[bytes]]:
    return lambda: [prefix + Path(p).read_bytes() for p in paths]


TARGETS: dict[str, Target] = {t.name: t for t in (
    Target("activity", run_activity, seeds_activity, "activity CSV/XLSX imports (`zerocarbon import KIND`)"),
    Target("credits", run_credits, _prefixed(b"\0", EXAMPLES / "claims" / "credits_2025.csv"),
           "carbon-credit register files (`zerocarbon claim credits import`)"),
    Target("claim_plan", run_claim_plan, _files(EXAMPLES / "claims" / "plan_TJ01_2025.yaml"),
           "carbon-neutrality plan YAML"),
    Target("suppliers", run_suppliers, seeds_suppliers, "supplier registry, answers, projects, green specification"),
    Target("pact", run_pact, _files(ROOT / "tests/data/pact/coil.json", EXAMPLES / "supply/pact_S006_a_cover.json"),
           "PACT v2 product footprints (`zerocarbon pact import`)"),
    Target("index_system", run_index_system, _files(EXAMPLES / "assessment/acme_quick_check.yaml"),
           "assessment index-system YAML (`zerocarbon assess systems add`)"),
    Target("disclosure", run_disclosure, _files(EXAMPLES / "disclosure/acme_2025_inputs.yaml"),
           "disclosure inputs YAML (`zerocarbon disclose inputs import`)"),
    Target("factor_set", run_factor_set,
           lambda: [(EXAMPLES / "factors/supplier_grid.csv").read_bytes() + RULES_MARK
                    + (EXAMPLES / "factors/supplier_grid.yaml").read_bytes()],
           "own factor sets: factor CSV plus rules YAML"),
    Target("organisation", run_organisation, _files(EXAMPLES / "organisation.yaml"), "organisation YAML"),
    Target("outputs", run_outputs, lambda: [b"\0site,year,metric,value,unit,source\nTJ01,2023,units,1000,unit,ERP\n"],
           "output figures for intensity targets"),
    Target("schedule", run_schedule, seeds_schedule, "scheduling problems (plant JSON, orders, Taillard, FJS)"),
    Target("pathway", run_pathway, _files(ROOT / "src/zerocarbon/data/measures/scenarios/demo_2030.yaml"), "abatement-pathway scenarios"),
    Target("mqtt", run_mqtt, seeds_mqtt, "MQTT JSON payloads of live readings"),
    Target("meter", run_meter, seeds_meter, "meter files: readings CSV/XLSX/Parquet, registry, file profile"),
    Target("energy_inputs", run_energy_inputs, seeds_energy_inputs,
           "production and temperature tables, carbon-intensity series"),
)}


def replay(target: str, data: bytes) -> str:
    return TARGETS[target].run(data)
