"""Factor sets by name: the shipped ones, and the organisations' own sets stored in the database.

``resolve(where, name, org)`` is the one way a use case turns a ``--factors NAME`` into a FactorSet: shipped
sets first, then the sets stored by organisation ``org`` — never another organisation's, whatever the name;
a name is never a path. ``import_set`` validates a user's factor CSV (the shipped schema, provenance
mandatory) with its rules YAML and stores both verbatim for one organisation under a new name with their
fingerprint, in one audited transaction; a stored set is never changed afterwards (closed inventories pin its
fingerprint), so a corrected file is imported under a new name.

Without an organisation (the command line without ``--org``) the database's only organisation is meant when
it has exactly one; with several, stored sets are not looked at and the message says to name one.
"""
from __future__ import annotations

import csv
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import yaml
from sqlalchemy.orm import Session, sessionmaker

from zerocarbon.core.factors import (Factor, FactorSet, all_factors, available_factor_sets, build_factor_set,
                                     check_set_name, load_factor_set, parse_factor_csv)
from zerocarbon.errors import FactorNotFoundError, InputError, NotFoundError, Problem, StorageError
from zerocarbon.store import factor_sets as store
from zerocarbon.store import repos

# An uploaded factor file or rules file larger than this is refused before it is read.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
_URL = re.compile(r"https?://[^\s,;()<>\"']+")


@dataclass(frozen=True)
class SetInfo:
    """A factor set as listed: ``factors``, ``issuers``, ``editions`` and ``licences`` describe the factors of
    the set itself for a shipped set, and of the imported file only for a stored set (the shipped files it
    includes are named in ``files``)."""

    name: str
    title: str
    origin: str  # shipped | stored
    fingerprint: str
    factors: int
    files: tuple[str, ...]
    created_at: str | None = None
    created_by: str | None = None
    organisation: str | None = None  # the owner of a stored set
    includes: tuple[str, ...] = ()  # shipped factor files a stored set includes
    issuers: tuple[str, ...] = ()
    editions: tuple[str, ...] = ()
    licences: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return dict(self.__dict__, files=list(self.files), includes=list(self.includes), issuers=list(self.issuers),
                    editions=list(self.editions), licences=list(self.licences))


@dataclass(frozen=True)
class OrgSets:
    """The factor sets one organisation sees: the shipped ones and its own. Passed where a use case takes
    ``stored_sets`` (the energy report) so a set name is resolved for that organisation only."""

    sessions: Session | sessionmaker
    org: str


@dataclass(frozen=True)
class FactorPage:
    """One page of a set's factors after filtering, with the choices the filters offer."""

    set: SetInfo
    total: int
    limit: int
    offset: int
    factors: list[Factor]
    kinds: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    gases: list[str] = field(default_factory=list)


def for_organisation(sessions: Session | sessionmaker, org: str) -> OrgSets:
    return OrgSets(sessions, org)


@contextmanager
def _session(session_or_sessions: Session | sessionmaker) -> Iterator[Session]:
    """Use the caller's open session as is, or open (and end) a transaction of our own."""
    if isinstance(session_or_sessions, Session):
        yield session_or_sessions
        return
    with session_or_sessions.begin() as s:
        yield s


def _owner(s: Session, org: str | None) -> tuple[int | None, str | None, str]:
    """(organisation id, code, why none) for ``org``, or for the database's only organisation when not given."""
    if org is not None:
        return store.organisation_id(s, org), org, ""
    codes = store.organisation_codes(s)
    if len(codes) == 1:
        return store.organisation_id(s, codes[0]), codes[0], ""
    if not codes:
        return None, None, "the database has no organisation yet (`zerocarbon org load`)"
    return None, None, (f"stored sets belong to one organisation and the database has {len(codes)} "
                        f"({', '.join(codes)}): name one with --org")


def _split(where, org: str | None) -> tuple[Session | sessionmaker | None, str | None]:
    if isinstance(where, OrgSets):
        return where.sessions, where.org
    return where, org


def _from_row(row: store.FactorSetRow) -> FactorSet:
    fs = build_factor_set(row.name, row.rules_yaml, [(row.factors_file, row.factors_csv)], origin="stored")
    if fs.fingerprint != row.fingerprint:
        # A shipped file the set includes changed, or the row was edited outside zerocarbon.
        raise StorageError(f"stored factor set '{row.name}' no longer matches its fingerprint "
                           f"{row.fingerprint[:12]} (now {fs.fingerprint[:12]}); import it again under a new name")
    return fs


def resolve(where: Session | sessionmaker | OrgSets | None, name: str, org: str | None = None) -> FactorSet:
    """The factor set called ``name`` for organisation ``org``: shipped first, then that organisation's stored
    sets (when a database is given). ``where`` may be an :class:`OrgSets`, which names the organisation.

    Raises FactorNotFoundError listing the names the organisation can use for an unknown or malformed name.
    """
    sessions, org = _split(where, org)
    check_set_name(name)
    shipped = available_factor_sets()
    if name in shipped:
        return load_factor_set(name)
    if sessions is None:
        raise FactorNotFoundError(f"factor set '{name}' not found; shipped: {', '.join(shipped)}; "
                                  "stored sets are looked up with --db")
    with _session(sessions) as s:
        org_id, code, why = _owner(s, org)
        if org_id is None:
            raise FactorNotFoundError(f"factor set '{name}' not found; shipped: {', '.join(shipped)}; {why}")
        row = store.get(s, name, org_id)
        if row is not None:
            return _from_row(row)
        stored = [r.name for r in store.names(s, org_id)]
    raise FactorNotFoundError(f"factor set '{name}' not found; shipped: {', '.join(shipped)}; "
                              f"stored by {code}: {', '.join(stored) or 'none'}")


def _summary(factors) -> dict:
    def distinct(attr: str) -> tuple[str, ...]:
        return tuple(sorted({getattr(f, attr).strip() for f in factors if getattr(f, attr).strip()}))

    return {"issuers": distinct("issuer"), "editions": distinct("edition"), "licences": distinct("licence")}


# Shipped sets are files of the installed package, the same for the life of the process: each is described once.
@lru_cache(maxsize=64)
def _shipped_info(name: str) -> SetInfo:
    fs = load_factor_set(name)
    return SetInfo(fs.id, fs.title, "shipped", fs.fingerprint, len(fs.factors), tuple(fs.files), **_summary(fs.factors))


# A stored set is never changed after its import, and its fingerprint covers its rules and factor files: what
# they say is parsed once per process (the CSV itself is not part of the key, to keep the cache small).
_STORED_CONTENT: dict[tuple[str, str, str], tuple[tuple[str, ...], dict]] = {}
_STORED_CONTENT_MAX = 256


def _stored_content(r: store.FactorSetRow) -> tuple[tuple[str, ...], dict]:
    key = (r.fingerprint, r.factors_file, r.rules_yaml)
    found = _STORED_CONTENT.get(key)
    if found is None:
        own = parse_factor_csv(r.factors_csv, r.factors_file)
        spec = yaml.safe_load(r.rules_yaml)
        found = (tuple(spec.get("files") or ()) if isinstance(spec, dict) else ()), _summary(own)
        if len(_STORED_CONTENT) >= _STORED_CONTENT_MAX:
            _STORED_CONTENT.clear()
        _STORED_CONTENT[key] = found
    return found


def _stored_info(r: store.FactorSetRow, code: str | None) -> SetInfo:
    includes, summary = _stored_content(r)
    return SetInfo(r.name, r.title, "stored", r.fingerprint, r.rows, (r.factors_file,),
                   r.created_at.isoformat(timespec="seconds"), r.created_by, code, includes=includes, **summary)


def list_sets(where: Session | sessionmaker | OrgSets | None = None, org: str | None = None) -> list[SetInfo]:
    """Shipped sets, then the sets stored by organisation ``org`` when a database is given (the database's only
    organisation when ``org`` is not given; InputError naming ``--org`` when it has several)."""
    sessions, org = _split(where, org)
    out = [_shipped_info(n) for n in available_factor_sets()]
    if sessions is not None:
        with _session(sessions) as s:
            org_id, code, why = _owner(s, org)
            if org_id is None and org is None and why.startswith("stored sets belong"):
                raise InputError([Problem("--org", None, None, why)])
            if org_id is not None:
                out += [_stored_info(r, code) for r in store.names(s, org_id)]
    return out


def set_info(where: Session | sessionmaker | OrgSets | None, name: str, org: str | None = None) -> SetInfo:
    """One set as :func:`list_sets` describes it, among those organisation ``org`` sees."""
    check_set_name(name)
    found = next((x for x in list_sets(where, org) if x.name == name), None)
    if found is None:
        resolve(where, name, org)  # raises, naming the sets the organisation can use
        raise FactorNotFoundError(f"factor set '{name}' not found")
    return found


def unowned_sets(sessions: Session | sessionmaker) -> list[SetInfo]:
    """Stored sets that no organisation sees yet (see :func:`assign`)."""
    with _session(sessions) as s:
        return [_stored_info(r, None) for r in store.unowned(s)]


def assign(sessions: Session | sessionmaker, name: str, org: str, *, actor: str) -> SetInfo:
    """Give a stored set that has no organisation (stored before sets had owners) to organisation ``org``."""
    check_set_name(name)
    with _session(sessions) as s:
        org_id = store.organisation_id(s, org)
        row = next((r for r in store.unowned(s) if r.name == name), None)
        if row is None:
            raise NotFoundError(f"no stored factor set '{name}' without an organisation; "
                                "`zerocarbon factors sets --unowned` lists them", entity=name)
        if store.get(s, name, org_id) is not None:
            raise InputError([Problem(name, None, None, f"{org} already has a stored factor set with this name")])
        row.organisation_id = org_id
        s.flush()
        repos.audit(s, actor, "factor_set.assign", f"factor_set:{name}", org_id=org_id, fingerprint=row.fingerprint)
        return _stored_info(row, org)


def _decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError([Problem(source, None, None, f"is not UTF-8 text ({exc.reason} at byte {exc.start})")]) \
            from None


def _read_text(path: Path, what: str) -> str:
    if not path.is_file():
        raise InputError([Problem(path.name, None, None, f"{what} {path} does not exist")])
    return _decode(path.read_bytes(), path.name)


def import_set(sessions: Session | sessionmaker, path: str | Path, name: str, rules: str | Path | None = None,
               *, org: str | None = None, actor: str) -> SetInfo:
    """Validate a user's factor file and rules, then store them as set ``name`` of organisation ``org`` (all or
    nothing; ``org`` defaults to the database's only organisation).

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
    path = Path(path)
    csv_text = _read_text(path, "factor file")  # first, so a missing factor file is named as such
    rules_path = Path(rules) if rules else path.with_suffix(".yaml")
    if not rules and not rules_path.is_file():
        raise InputError([Problem(path.name, None, None,
                                  f"needs its rules: put them in {rules_path.name} beside it or pass --rules FILE "
                                  "(see docs/factors.md, 'Your own factor set')")])
    rules_text = _read_text(rules_path, "rules file")
    return store_set(sessions, name, path.name, csv_text, rules_path.name, rules_text, org=org, actor=actor)


def import_upload(sessions: Session | sessionmaker, org: str, name: str, file_name: str, data: bytes,
                  rules_name: str | None, rules_data: bytes | None, *, actor: str) -> SetInfo:
    """:func:`import_set` for an upload: the factor file's and the rules file's bytes as sent."""
    problems = [Problem(n or "file", None, None, f"is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
                for n, d in ((file_name, data), (rules_name, rules_data)) if d is not None and len(d) > MAX_UPLOAD_BYTES]
    if problems:
        raise InputError(problems)
    if rules_data is None:
        raise InputError([Problem(file_name, None, None, "needs its rules: send the set's rules YAML as the 'rules' "
                                                         "file (see docs/factors.md, 'Your own factor set')")])
    return store_set(sessions, name, file_name, _decode(data, file_name), rules_name or "rules.yaml",
                     _decode(rules_data, rules_name or "rules.yaml"), org=org, actor=actor)


def store_set(sessions: Session | sessionmaker, name: str, file_name: str, csv_text: str, rules_name: str,
              rules_text: str, *, org: str | None, actor: str) -> SetInfo:
    """Validate a factor CSV text and its rules text and store them as set ``name`` of organisation ``org``."""
    try:
        check_set_name(name)
    except FactorNotFoundError as exc:  # a new name is input to correct, not a set to look up
        raise InputError([Problem("name", None, None, str(exc))]) from None
    if name in available_factor_sets():
        raise InputError([Problem(str(name), None, None, "is the name of a shipped factor set; choose another")])
    try:
        fs = build_factor_set(name, rules_text, [(file_name, csv_text)], origin="stored")
        own = parse_factor_csv(csv_text, file_name)
    except csv.Error as exc:  # e.g. a line break inside an unquoted cell, a cell longer than 128 KiB
        raise InputError([Problem(file_name, None, None, f"is not a readable CSV file: {exc}")]) from None
    with _session(sessions) as s:
        org_id, code, why = _owner(s, org)
        if org_id is None:
            raise InputError([Problem("--org", None, None, why)])
        existing = store.get(s, name, org_id)
        if existing is not None:
            raise InputError([Problem(name, None, None,
                                      f"{code} already has a stored factor set with this name (fingerprint "
                                      f"{existing.fingerprint[:12]}); stored sets never change: choose a new name")])
        row = store.FactorSetRow(organisation_id=org_id, name=name, title=fs.title, rules_yaml=rules_text,
                                 factors_file=file_name, factors_csv=csv_text, fingerprint=fs.fingerprint,
                                 rows=len(own), created_at=repos.now(), created_by=actor)
        store.add(s, row)
        repos.audit(s, actor, "factor_set.import", f"factor_set:{name}", org_id=org_id, fingerprint=fs.fingerprint,
                    file=file_name, rules=rules_name, rows=len(own), includes=list(fs.files[:-1]))
    return SetInfo(name, fs.title, "stored", fs.fingerprint, len(own), (file_name,),
                   row.created_at.isoformat(timespec="seconds"), actor, code, includes=tuple(fs.files[:-1]),
                   **_summary(own))


def filter_factors(factors, kind: str | None = None, region: str | None = None, gas: str | None = None,
                   search: str | None = None) -> list[Factor]:
    """Factors of ``kind``, ``region`` and ``gas`` (exact; empty keeps all) whose id, subject, issuer, document
    or notes contain ``search`` (any case)."""
    needle = (search or "").strip().casefold()

    def hit(f: Factor) -> bool:
        return any(needle in x.casefold() for x in (f.factor_id, f.subject, f.issuer, f.document, f.notes))

    return [f for f in factors if not (kind and f.kind != kind) and not (region and f.region != region)
            and not (gas and f.gas != gas) and not (needle and not hit(f))]


def factor_page(where: Session | sessionmaker | OrgSets | None, name: str, org: str | None = None, *,
                kind: str | None = None, region: str | None = None, gas: str | None = None,
                search: str | None = None, limit: int = 50, offset: int = 0) -> FactorPage:
    """One page of the factors of set ``name`` as organisation ``org`` sees it, filtered."""
    info = set_info(where, name, org)
    factors = resolve(where, name, org).factors
    rows = filter_factors(factors, kind, region, gas, search)
    return FactorPage(info, len(rows), limit, offset, rows[offset:offset + limit],
                      kinds=sorted({f.kind for f in factors}), regions=sorted({f.region for f in factors if f.region}),
                      gases=sorted({f.gas for f in factors if f.gas}))


def source_links(document: str) -> list[str]:
    """The web addresses a factor's ``document`` names (none when it names a publication only)."""
    return [u.rstrip(".") for u in _URL.findall(document or "")]


def shipped_set_names() -> list[str]:
    """Names of the factor sets shipped with the package."""
    return list(available_factor_sets())


def list_factors(where: Session | sessionmaker | OrgSets | None, factor_set: str | None = None,
                 kind: str | None = None, search: str | None = None, org: str | None = None) -> list[Factor]:
    """Factors of one set (shipped, or stored by ``org``), or of every shipped factor file; ``kind`` keeps one
    kind (grid_electricity, combustion, gwp, ...), ``search`` a substring of the factor id."""
    rows = resolve(where, factor_set, org).factors if factor_set else all_factors()
    return [f for f in rows if not (kind and f.kind != kind) and not (search and search not in f.factor_id)]


def factor(factor_id: str) -> Factor:
    """One shipped factor with its provenance; NotFoundError names how to search."""
    found = next((f for f in all_factors() if f.factor_id == factor_id), None)
    if found is None:
        raise NotFoundError(f"no factor '{factor_id}'; try `zerocarbon factors list --search ...`",
                            entity=factor_id)
    return found


def calc(where: Session | sessionmaker | OrgSets | None, factor_set: str, value: float, unit: str,
         subject: str, gwp: str = "AR5", use: str = "stationary", basis: str = "", org: str | None = None):
    """Emissions of one quantity [``unit``] of ``subject`` with set ``factor_set``: see
    :func:`zerocarbon.core.ghg.calc.calc`."""
    from zerocarbon.core.ghg.calc import calc as quick_calc

    return quick_calc(resolve(where, factor_set, org), value, unit, subject, gwp, use, basis)


__all__ = ["FactorPage", "OrgSets", "SetInfo", "assign", "calc", "factor", "factor_page", "filter_factors",
           "for_organisation", "import_set", "import_upload", "list_factors", "list_sets", "resolve", "set_info",
           "shipped_set_names", "source_links", "store_set", "unowned_sets"]
