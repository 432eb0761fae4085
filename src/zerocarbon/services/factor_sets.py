"""Factor sets by name: the shipped ones, and users' own sets stored in the database.

``resolve(sessions, name)`` is the one way a use case turns a ``--factors NAME`` into a FactorSet:
shipped sets first, then stored ones; a name is never a path. ``import_set`` validates a user's factor
CSV (the shipped schema, provenance mandatory) with its rules YAML and stores both verbatim under a
new name with their fingerprint, in one audited transaction; a stored set is never changed afterwards
(closed inventories pin its fingerprint), so a corrected file is imported under a new name.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from sqlalchemy.orm import Session, sessionmaker

from zerocarbon.core.factors import (Factor, FactorSet, all_factors, available_factor_sets, build_factor_set,
                                     check_set_name, load_factor_set, parse_factor_csv)
from zerocarbon.errors import FactorNotFoundError, InputError, NotFoundError, Problem, StorageError
from zerocarbon.store import factor_sets as store
from zerocarbon.store import repos


@dataclass(frozen=True)
class SetInfo:
    name: str
    title: str
    origin: str  # shipped | stored
    fingerprint: str
    factors: int
    files: tuple[str, ...]
    created_at: str | None = None
    created_by: str | None = None

    def as_dict(self) -> dict:
        return dict(self.__dict__, files=list(self.files))


@contextmanager
def _session(session_or_sessions: Session | sessionmaker) -> Iterator[Session]:
    """Use the caller's open session as is, or open (and end) a transaction of our own."""
    if isinstance(session_or_sessions, Session):
        yield session_or_sessions
        return
    with session_or_sessions.begin() as s:
        yield s


def _from_row(row: store.FactorSetRow) -> FactorSet:
    fs = build_factor_set(row.name, row.rules_yaml, [(row.factors_file, row.factors_csv)], origin="stored")
    if fs.fingerprint != row.fingerprint:
        # A shipped file the set includes changed, or the row was edited outside zerocarbon.
        raise StorageError(f"stored factor set '{row.name}' no longer matches its fingerprint "
                           f"{row.fingerprint[:12]} (now {fs.fingerprint[:12]}); import it again under a new name")
    return fs


def resolve(session_or_sessions: Session | sessionmaker | None, name: str) -> FactorSet:
    """The factor set called ``name``: shipped first, then stored (when a database is given).

    Raises FactorNotFoundError listing the available names for an unknown or malformed name.
    """
    check_set_name(name)
    shipped = available_factor_sets()
    if name in shipped:
        return load_factor_set(name)
    stored: list[str] = []
    if session_or_sessions is not None:
        with _session(session_or_sessions) as s:
            row = store.get(s, name)
            if row is not None:
                return _from_row(row)
            stored = [r.name for r in store.names(s)]
    where = (f"; stored: {', '.join(stored) or 'none'}" if session_or_sessions is not None
             else "; stored sets are looked up with --db")
    raise FactorNotFoundError(f"factor set '{name}' not found; shipped: {', '.join(shipped)}{where}")


def list_sets(session_or_sessions: Session | sessionmaker | None = None) -> list[SetInfo]:
    """Shipped sets, then stored ones when a database is given."""
    out = [SetInfo(fs.id, fs.title, "shipped", fs.fingerprint, len(fs.factors), tuple(fs.files))
           for fs in map(load_factor_set, available_factor_sets())]
    if session_or_sessions is not None:
        with _session(session_or_sessions) as s:
            out += [SetInfo(r.name, r.title, "stored", r.fingerprint, r.rows, (r.factors_file,),
                            r.created_at.isoformat(timespec="seconds"), r.created_by) for r in store.names(s)]
    return out


def _read_text(path: Path, what: str) -> str:
    if not path.is_file():
        raise InputError([Problem(path.name, None, None, f"{what} {path} does not exist")])
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError([Problem(path.name, None, None, f"is not UTF-8 text ({exc.reason} at byte {exc.start})")]) \
            from None


def import_set(sessions: Session | sessionmaker, path: str | Path, name: str, rules: str | Path | None = None,
               *, actor: str) -> SetInfo:
    """Validate a user's factor file and rules, then store them as set ``name`` (all or nothing).

    ``rules`` defaults to the YAML beside the file (``factors.csv`` -> ``factors.yaml``). Raises
    InputError (file, row, column, reason) and writes nothing when anything is wrong.
    """
    # Said first: otherwise a missing factor file is reported as missing its rules file beside it.
    for given, what in ((path, "factor file"), (rules, "rules file")):
        if given and Path(given).is_dir():
            raise InputError([Problem(str(given), None, None, f"is a folder, not a {what}")])
        if given and not Path(given).is_file():
            raise InputError([Problem(str(given), None, None, f"{what} not found")])
    check_set_name(name)
    if name in available_factor_sets():
        raise InputError([Problem(str(name), None, None, "is the name of a shipped factor set; choose another")])
    path = Path(path)
    csv_text = _read_text(path, "factor file")  # first, so a missing factor file is named as such
    rules_path = Path(rules) if rules else path.with_suffix(".yaml")
    if not rules and not rules_path.is_file():
        raise InputError([Problem(path.name, None, None,
                                  f"needs its rules: put them in {rules_path.name} beside it or pass --rules FILE "
                                  "(see docs/factors.md, 'Your own factor set')")])
    rules_text = _read_text(rules_path, "rules file")
    fs = build_factor_set(name, rules_text, [(path.name, csv_text)], origin="stored")
    own = len(parse_factor_csv(csv_text, path.name))
    with _session(sessions) as s:
        existing = store.get(s, name)
        if existing is not None:
            raise InputError([Problem(name, None, None,
                                      f"a stored factor set already has this name (fingerprint "
                                      f"{existing.fingerprint[:12]}); stored sets never change: choose a new name")])
        row = store.FactorSetRow(name=name, title=fs.title, rules_yaml=rules_text, factors_file=path.name,
                                 factors_csv=csv_text, fingerprint=fs.fingerprint, rows=own,
                                 created_at=repos.now(), created_by=actor)
        store.add(s, row)
        repos.audit(s, actor, "factor_set.import", f"factor_set:{name}", fingerprint=fs.fingerprint,
                    file=path.name, rules=rules_path.name, rows=own, includes=list(fs.files[:-1]))
    return SetInfo(name, fs.title, "stored", fs.fingerprint, own, (path.name,),
                   row.created_at.isoformat(timespec="seconds"), actor)


def shipped_set_names() -> list[str]:
    """Names of the factor sets shipped with the package."""
    return list(available_factor_sets())


def list_factors(session_or_sessions: Session | sessionmaker | None, factor_set: str | None = None,
                 kind: str | None = None, search: str | None = None) -> list[Factor]:
    """Factors of one set (shipped or stored), or of every shipped factor file; ``kind`` keeps one kind
    (grid_electricity, combustion, gwp, ...), ``search`` a substring of the factor id."""
    rows = resolve(session_or_sessions, factor_set).factors if factor_set else all_factors()
    return [f for f in rows if not (kind and f.kind != kind) and not (search and search not in f.factor_id)]


def factor(factor_id: str) -> Factor:
    """One shipped factor with its provenance; NotFoundError names how to search."""
    found = next((f for f in all_factors() if f.factor_id == factor_id), None)
    if found is None:
        raise NotFoundError(f"no factor '{factor_id}'; try `zerocarbon factors list --search ...`",
                            entity=factor_id)
    return found


def calc(session_or_sessions: Session | sessionmaker | None, factor_set: str, value: float, unit: str,
         subject: str, gwp: str = "AR5", use: str = "stationary", basis: str = ""):
    """Emissions of one quantity [``unit``] of ``subject`` with set ``factor_set``: see
    :func:`zerocarbon.core.ghg.calc.calc`."""
    from zerocarbon.core.ghg.calc import calc as quick_calc

    return quick_calc(resolve(session_or_sessions, factor_set), value, unit, subject, gwp, use, basis)


__all__ = ["SetInfo", "calc", "factor", "import_set", "list_factors", "list_sets", "resolve", "shipped_set_names"]
