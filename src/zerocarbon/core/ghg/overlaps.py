"""Activity records that would count the same emissions twice.

Two kinds of repetition are caught, per activity kind:

* metered supply (electricity and generation per meter or technology, heat per supplier factor source):
  two records of the same meter whose periods overlap by at least one day. Corrected files re-imported
  as new data and the same meter-month in two files both fall here.
* deliveries and stock records (fuel, refrigerant, process gas): two records identical in site, material,
  period and quantity. The files carry no delivery reference, so the quantity stands in for it: separate
  deliveries in one month with different quantities remain possible.

Periods are inclusive calendar days (``period_end`` is the last day), as in the activity files.
Functions take validated activity frames (``core.ghg.inventory.KIND_COLUMNS``) and return
``(index, other_index, reason)`` triples of frame index labels; they never raise, so the caller can
name both files and rows.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Rule:
    """Identity of one record for double-count checks: key columns, and how periods compare."""

    key: tuple[str, ...]
    periods: str  # "overlap": same key and overlapping periods | "same": same key (periods in the key)
    what: str


_DAYS = ("period_start", "period_end")
RULES: dict[str, Rule] = {
    "electricity": Rule(("site", "meter"), "overlap", "meter"),
    "heat": Rule(("site", "factor_source"), "overlap", "heat supply"),
    "generation": Rule(("site", "technology"), "overlap", "generation"),
    "fuel": Rule(("site", "fuel", "use", *_DAYS, "quantity", "unit"), "same", "fuel record"),
    "refrigerant": Rule(("site", "gas", "method", *_DAYS, "unit", "inventory_start", "inventory_end", "purchased",
                         "recovered_or_sold", "capacity_change", "charge", "annual_leak_rate"), "same",
                        "refrigerant record"),
    "process_gas": Rule(("site", "gas", *_DAYS, "consumed", "unit"), "same", "process gas record"),
}

Clash = tuple[object, object, str]


def _days(s: pd.Series) -> np.ndarray:
    return pd.to_datetime(s).to_numpy(dtype="datetime64[D]").astype(np.int64)


def _key_codes(rule: Rule, *frames: pd.DataFrame) -> list[np.ndarray]:
    """One integer per distinct key, shared across frames (NaN equals NaN, as an empty optional cell)."""
    cols = list(rule.key)
    both = pd.concat([f[cols] for f in frames], ignore_index=True)
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


def _period(row: pd.Series) -> str:
    return f"{pd.Timestamp(row['period_start']):%Y-%m-%d}..{pd.Timestamp(row['period_end']):%Y-%m-%d}"


def _reason(rule: Rule, a: pd.Series, b: pd.Series) -> str:
    def given(k):
        v = a[k]
        return not (v is None or (isinstance(v, float) and np.isnan(v)))

    key = ", ".join(f"{k} {a[k]}" for k in rule.key if k not in _DAYS and given(k))
    if rule.periods == "overlap":
        return f"{key}: period {_period(a)} overlaps {_period(b)} of the same {rule.what}"
    return f"{key}, period {_period(a)}: repeats an identical {rule.what}"


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


def within(kind: str, frame: pd.DataFrame, limit: int = 1000) -> list[Clash]:
    """Pairs (later row, earlier row, reason) inside one frame that count the same thing twice; at most
    ``limit``, in row order."""
    rule = RULES.get(kind)
    if rule is None or len(frame) < 2:
        return []
    (codes,) = _key_codes(rule, frame)
    if rule.periods == "same":
        first = pd.Series(np.arange(len(frame))).groupby(codes).transform("first").to_numpy()
        pairs = [(i, int(first[i])) for i in np.flatnonzero(first != np.arange(len(frame)))]
    else:
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
    new_codes, old_codes = _key_codes(rule, new, existing)
    if rule.periods == "same":
        first_old = pd.Series(np.arange(len(existing))).groupby(old_codes).first()
        hit = pd.Series(new_codes).map(first_old).to_numpy()
        pairs = [(i, int(hit[i])) for i in np.flatnonzero(~np.isnan(hit))[:limit]]
    else:
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


__all__ = ["RULES", "Rule", "against", "within"]
