"""Activity records that would count the same emissions twice.

Two kinds of repetition are caught, per activity kind:

* metered supply (electricity and generation per meter or technology, heat per supplier factor source):
  two records of the same meter whose periods overlap by at least one day. Corrected files re-imported
  as new data and the same meter-month in two files both fall here.
* shipment legs (Scope 3 categories 4 and 9): the same shipment and leg twice, in any period.
* deliveries and stock records (fuel, refrigerant, process gas): two records of the same site, material
  (fuel and use; gas and method) and period repeat each other when both carry a document reference
  (invoice or delivery note, equipment id, log reference) and it is the same, or, when either has none,
  when their quantities are the same. Separate deliveries in one month stay possible: different
  references, or different quantities without references.

  Records of the same site, material and period with *different* quantities and no reference to tell
  them apart are not refused, since they may be separate deliveries, but they may as well be a correction
  of the earlier one: ``possible_corrections`` and ``possible_corrections_within`` name those pairs so the
  caller can warn.

Periods are inclusive calendar days (``period_end`` is the last day), as in the activity files.
Functions take validated activity frames (``core.ghg.inventory.KIND_COLUMNS``, plus ``reference`` where the
kind has one; a frame without that column has no references) and return ``(index, other_index, reason)``
triples of frame index labels; they never raise, so the caller can name both files and rows.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Rule:
    """Identity of one record for double-count checks: key columns, and how periods compare.

    ``periods == "same"`` rules put the period in ``key`` and tell records of one key apart by
    ``reference`` (a column; both records must give one) or else by ``quantity`` (the amount columns).
    """

    key: tuple[str, ...]
    periods: str  # "overlap": same key and overlapping periods | "same": same key (periods in the key)
    what: str
    quantity: tuple[str, ...] = ()
    reference: str = ""


_DAYS = ("period_start", "period_end")
RULES: dict[str, Rule] = {
    "electricity": Rule(("site", "meter"), "overlap", "meter"),
    "heat": Rule(("site", "factor_source"), "overlap", "heat supply"),
    "generation": Rule(("site", "technology"), "overlap", "generation"),
    "fuel": Rule(("site", "fuel", "use", *_DAYS), "same", "fuel record", ("quantity", "unit"), "reference"),
    "refrigerant": Rule(("site", "gas", "method", *_DAYS), "same", "refrigerant record",
                        ("unit", "inventory_start", "inventory_end", "purchased", "recovered_or_sold",
                         "capacity_change", "charge", "annual_leak_rate"), "reference"),
    "process_gas": Rule(("site", "gas", *_DAYS), "same", "process gas record", ("consumed", "unit"), "reference"),
    # One leg of one shipment is carried once: the same shipment and leg again (in any period) counts it twice.
    # No quantity and no reference tell two such rows apart, so any repetition is refused.
    "shipment": Rule(("category", "shipment", "leg"), "same", "shipment leg"),
}

Clash = tuple[object, object, str]


def _days(s: pd.Series) -> np.ndarray:
    return pd.to_datetime(s).to_numpy(dtype="datetime64[D]").astype(np.int64)


def _codes(cols, *frames: pd.DataFrame) -> list[np.ndarray]:
    """One integer per distinct combination of ``cols``, shared across frames (NaN equals NaN, as an empty
    optional cell; a column a frame lacks is empty in it)."""
    cols = list(cols)
    both = pd.concat([f.reindex(columns=cols) for f in frames], ignore_index=True)
    for c in cols:
        if c in _DAYS:
            both[c] = pd.to_datetime(both[c])
        elif both[c].dtype == object or pd.api.types.is_string_dtype(both[c]):
            both[c] = both[c].astype(str)
    codes = both.groupby(cols, dropna=False, sort=False).ngroup().to_numpy(dtype=np.int64)
    out, start = [], 0
    for f in frames:
        out.append(codes[start:start + len(f)])
        start += len(f)
    return out


def _key_codes(rule: Rule, *frames: pd.DataFrame) -> list[np.ndarray]:
    return _codes(rule.key, *frames)


def _references(rule: Rule, frame: pd.DataFrame) -> np.ndarray:
    """The reference of each row as text, "" where none is given (or the frame has no such column)."""
    if not rule.reference or rule.reference not in frame:
        return np.full(len(frame), "", dtype=object)
    s = frame[rule.reference]
    return np.where(s.isna().to_numpy(), "", s.astype(str).str.strip().to_numpy(dtype=object))


def _period(row: pd.Series) -> str:
    return f"{pd.Timestamp(row['period_start']):%Y-%m-%d}..{pd.Timestamp(row['period_end']):%Y-%m-%d}"


def _given(row: pd.Series, k: str) -> bool:
    v = row.get(k)
    return not (v is None or (isinstance(v, float) and np.isnan(v)) or v == "")


def _value(v) -> str:
    return f"{v:.15g}" if isinstance(v, (float, np.floating)) else str(v)


def _describe(row: pd.Series, cols) -> str:
    return ", ".join(f"{k} {_value(row[k])}" for k in cols if k not in _DAYS and _given(row, k))


def _reason(rule: Rule, a: pd.Series, b: pd.Series) -> str:
    if rule.periods == "overlap":
        return f"{_describe(a, rule.key)}: period {_period(a)} overlaps {_period(b)} of the same {rule.what}"
    if not rule.quantity and not rule.reference:
        return f"{_describe(a, rule.key)}, period {_period(a)}: the same {rule.what} as one of period {_period(b)}"
    if _given(a, rule.reference) and _given(b, rule.reference):
        return (f"{_describe(a, rule.key)}, period {_period(a)}: repeats the {rule.what} of the same reference "
                f"'{a[rule.reference]}'")
    return (f"{_describe(a, rule.key + rule.quantity)}, period {_period(a)}: repeats an identical {rule.what} "
            "(same quantity; without a reference on both they cannot be told apart)")


def _correction_reason(rule: Rule, a: pd.Series, b: pd.Series) -> str:
    material = [k for k in rule.key if k not in _DAYS and k != "site"]
    return (f"{_describe(a, rule.key)}, period {_period(a)} ({_describe(a, rule.quantity)}): same site, "
            f"{', '.join(material)} and period as a record with {_describe(b, rule.quantity)}; without a reference "
            "on both, a separate record cannot be told from a correction")


def _sorted(codes: np.ndarray, start: np.ndarray, end: np.ndarray):
    order = np.lexsort((end, start, codes))
    k, s, e = codes[order], start[order], end[order]
    # Running maximum of the period end within each key; keys are sorted, so an offset per key keeps the
    # maximum from leaking across keys. `holder` is the position that reached it.
    span = int(max(e.max(initial=0) - min(s.min(initial=0), e.min(initial=0)), 0)) + 2
    base = min(s.min(initial=0), e.min(initial=0))
    value = k * span + (e - base)
    cum = np.maximum.accumulate(value) if len(value) else value
    holder = np.maximum.accumulate(np.where(value == cum, np.arange(len(value)), -1)) if len(value) else value
    return order, k, s, e, holder


def _first(codes: np.ndarray, mask: np.ndarray) -> pd.Series:
    """Per code, the first position whose ``mask`` is true."""
    at = np.flatnonzero(mask)
    return pd.Series(at).groupby(codes[at]).min()


def _lookup(first: pd.Series, codes: np.ndarray) -> np.ndarray:
    """Position ``first`` gives for each code, -1 where there is none."""
    return pd.Series(codes).map(first).fillna(-1).to_numpy(dtype=np.int64)


def _earliest(*candidates: np.ndarray) -> np.ndarray:
    """Element-wise smallest position that is not -1 (-1 if all are)."""
    big = np.iinfo(np.int64).max
    best = np.min([np.where(c < 0, big, c) for c in candidates], axis=0)
    return np.where(best == big, -1, best)


class _Same:
    """Codes of a "same" rule over one or two frames: key, key + reference, key + quantity."""

    def __init__(self, rule: Rule, *frames: pd.DataFrame):
        self.key = _key_codes(rule, *frames)
        self.ref = _codes(rule.key + (rule.reference,), *[f.assign(**{rule.reference: _references(rule, f)})
                                                          for f in frames])
        self.qty = _codes(rule.key + rule.quantity, *frames)
        self.has_ref = [_references(rule, f) != "" for f in frames]


def _same_within(rule: Rule, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """For each row, the earlier row it repeats (-1: none) and the earlier row it may correct (-1: none)."""
    c = _Same(rule, frame)
    pos = np.arange(len(frame))
    has = c.has_ref[0]

    def before(x):
        return np.where(x < pos, x, -1)

    same_ref = before(np.where(has, _lookup(_first(c.ref[0], has), c.ref[0]), -1))
    # Compared by quantity when either lacks a reference.
    qty_any = before(np.where(~has, _lookup(_first(c.qty[0], np.ones(len(frame), bool)), c.qty[0]), -1))
    qty_unref = before(np.where(has, _lookup(_first(c.qty[0], ~has), c.qty[0]), -1))
    repeats = _earliest(same_ref, qty_any, qty_unref)
    key_any = before(np.where(~has, _lookup(_first(c.key[0], np.ones(len(frame), bool)), c.key[0]), -1))
    key_unref = before(np.where(has, _lookup(_first(c.key[0], ~has), c.key[0]), -1))
    corrects = np.where(repeats >= 0, -1, _earliest(key_any, key_unref))
    return repeats, corrects


def _same_against(rule: Rule, new: pd.DataFrame, existing: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """For each new row, the existing row it repeats (-1: none) and the existing row it may correct."""
    c = _Same(rule, new, existing)
    has, old_has = c.has_ref
    every = np.ones(len(existing), bool)
    same_ref = np.where(has, _lookup(_first(c.ref[1], old_has), c.ref[0]), -1)
    qty = np.where(has, _lookup(_first(c.qty[1], ~old_has), c.qty[0]), _lookup(_first(c.qty[1], every), c.qty[0]))
    repeats = np.where(same_ref >= 0, same_ref, qty)
    key = np.where(has, _lookup(_first(c.key[1], ~old_has), c.key[0]), _lookup(_first(c.key[1], every), c.key[0]))
    corrects = np.where(repeats >= 0, -1, key)
    return repeats, corrects


def within(kind: str, frame: pd.DataFrame, limit: int = 1000) -> list[Clash]:
    """Pairs (later row, earlier row, reason) inside one frame that count the same thing twice; at most
    ``limit``, in row order."""
    rule = RULES.get(kind)
    if rule is None or len(frame) < 2:
        return []
    if rule.periods == "same":
        repeats, _ = _same_within(rule, frame)
        pairs = [(int(i), int(repeats[i])) for i in np.flatnonzero(repeats >= 0)]
    else:
        (codes,) = _key_codes(rule, frame)
        order, k, s, e, holder = _sorted(codes, _days(frame["period_start"]), _days(frame["period_end"]))
        pos = np.arange(1, len(order))
        prev = holder[pos - 1]
        hit = (k[prev] == k[pos]) & (e[prev] >= s[pos])
        pairs = [(int(order[p]), int(order[q])) for p, q in zip(pos[hit], prev[hit])]
        pairs.sort()
    return [(frame.index[i], frame.index[j], _reason(rule, frame.iloc[i], frame.iloc[j])) for i, j in pairs[:limit]]


def against(kind: str, new: pd.DataFrame, existing: pd.DataFrame, limit: int = 1000) -> list[Clash]:
    """Pairs (new row, existing row, reason) where a new record counts an existing one again; at most
    ``limit``, in the new frame's row order."""
    rule = RULES.get(kind)
    if rule is None or new.empty or existing.empty:
        return []
    if rule.periods == "same":
        repeats, _ = _same_against(rule, new, existing)
        pairs = [(int(i), int(repeats[i])) for i in np.flatnonzero(repeats >= 0)[:limit]]
    else:
        new_codes, old_codes = _key_codes(rule, new, existing)
        order, k, s, e, holder = _sorted(old_codes, _days(existing["period_start"]), _days(existing["period_end"]))
        ns, ne = _days(new["period_start"]), _days(new["period_end"])
        span = int(max(s.max(initial=0), ns.max(initial=0)) - min(s.min(initial=0), ns.min(initial=0))) + 2
        base = min(s.min(initial=0), ns.min(initial=0))
        sorted_key = k * span + (s - base)
        probe = new_codes * span + (ns - base)
        # An existing period overlaps a new one if it starts on or before the new start and ends on or after
        # it (the longest-running such period is `holder`), or starts inside the new period.
        at = np.searchsorted(sorted_key, probe, side="right")
        pairs = []
        before = at - 1
        ok = before >= 0
        cand = np.where(ok, holder[np.clip(before, 0, None)], 0)
        hit1 = ok & (k[cand] == new_codes) & (e[cand] >= ns) if len(k) else np.zeros(len(new), bool)
        after = np.clip(at, 0, max(len(k) - 1, 0))
        hit2 = (at < len(k)) & (k[after] == new_codes) & (s[after] <= ne) if len(k) else np.zeros(len(new), bool)
        for i in np.flatnonzero(hit1 | hit2)[:limit]:
            pairs.append((int(i), int(order[cand[i]] if hit1[i] else order[after[i]])))
    return [(new.index[i], existing.index[j], _reason(rule, new.iloc[i], existing.iloc[j]))
            for i, j in pairs[:limit]]


def possible_corrections_within(kind: str, frame: pd.DataFrame, limit: int = 1000) -> list[Clash]:
    """Pairs (later row, earlier row, reason) inside one frame of the same site, material and period whose
    quantities differ and which have no reference on both: separate deliveries, or a correction. At most
    ``limit``, in row order; rows that ``within`` refuses are not repeated here."""
    rule = RULES.get(kind)
    if rule is None or rule.periods != "same" or len(frame) < 2:
        return []
    _, corrects = _same_within(rule, frame)
    return [(frame.index[i], frame.index[corrects[i]], _correction_reason(rule, frame.iloc[i],
                                                                          frame.iloc[corrects[i]]))
            for i in np.flatnonzero(corrects >= 0)[:limit]]


def possible_corrections(kind: str, new: pd.DataFrame, existing: pd.DataFrame, limit: int = 1000) -> list[Clash]:
    """Pairs (new row, existing row, reason) of the same site, material and period whose quantities differ
    and which have no reference on both: the new row may correct the existing one. At most ``limit``, in the
    new frame's row order; rows that ``against`` refuses are not repeated here."""
    rule = RULES.get(kind)
    if rule is None or rule.periods != "same" or new.empty or existing.empty:
        return []
    _, corrects = _same_against(rule, new, existing)
    return [(new.index[i], existing.index[corrects[i]], _correction_reason(rule, new.iloc[i],
                                                                           existing.iloc[corrects[i]]))
            for i in np.flatnonzero(corrects >= 0)[:limit]]


__all__ = ["RULES", "Rule", "against", "possible_corrections", "possible_corrections_within", "within"]
