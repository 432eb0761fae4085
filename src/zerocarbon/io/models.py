"""Pydantic models of the product's inputs, built from their declarations, and the one adapter from a
pydantic :class:`~pydantic.ValidationError` to the product's :class:`~zerocarbon.errors.Problem` list.

Activity rows: :func:`row_model` builds one model per kind from the columns of :mod:`zerocarbon.io.schemas`
(name, type, required, meaning, example, check, ceilings, Chinese headers), so that table stays the only
declaration. The importer (:mod:`zerocarbon.io.tables`) validates whole files vectorised and does not use these
models; the models publish the same rules as JSON Schema (``zerocarbon schema --json-schema KIND``,
``GET /api/v1/schemas/KIND``) and check single rows with the importer's wording. They read a text cell with the
importer's own parsers (pandas), so a cell means the same number or date in both; ``tests/test_schemas.py``
compares the verdicts of the two on generated rows.

A row model checks each cell (type, blank, sign or fraction, ceiling in the row's own unit, the fixed lists of
uses, bases, methods, instrument types and technologies), the units' dimension, the order of a period's dates,
the amounts a refrigerant method needs and its mass balance, and the rules between the columns of the
supply-chain kinds (a complete method per purchase, evidence with supplier figures, distance or coordinates per
shipment leg: :func:`zerocarbon.io.tables.row_rules`, shared with the importer so both word a refusal alike). The importer checks the rest, which needs the
organisation, the reporting year, the factor set or other rows (known sites, fuels and gases of the set, serial
ranges and claims, one heating-value basis per fuel, repeated rows).
"""
from __future__ import annotations

import math
from datetime import date
from functools import cache
from typing import Annotated, Any, Callable, ClassVar

from pydantic import (AliasChoices, BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, create_model,
                      model_validator)
from pydantic.functional_validators import BeforeValidator
from pydantic_core import InitErrorDetails, PydanticCustomError

from zerocarbon.errors import Problem
from zerocarbon.io.schemas import (CHOICES, ENERGY_UNIT_KINDS, FALSE, MASS_UNIT_KINDS, SCHEMAS, SUPPLY_KINDS, TRUE,
                                   Ceiling, Column, number_text)

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


# -- ValidationError -> Problem ------------------------------------------------------------------------------
def reason(kind: str, text: str) -> PydanticCustomError:
    """An error whose message is ``text`` as written (user input may hold braces, so it is not a template)."""
    return PydanticCustomError(kind, "{reason}", {"reason": text})


#: Pydantic's wording for what the product words its own way; other messages pass through unchanged.
WORDING = {
    "missing": "required field is missing",
    "extra_forbidden": "unknown field",
}


def field_path(loc: tuple, index_base: int = 0) -> str:
    """``('sites', 0, 'code')`` -> ``sites[0].code`` (``index_base=1``: ``sites[1].code``, as in a file's own
    numbering)."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part + index_base}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def problems_from(exc: ValidationError, source: str, row: int | None = None, *, index_base: int = 0,
                  prefix: str = "", wording: dict[str, str | Callable[[dict], str]] | None = None) -> list[Problem]:
    """One :class:`Problem` per error of ``exc``: ``source`` is the file, ``row`` its row (or None), the column
    is the error's field path (``prefix`` put in front of it) and the reason the error's message, with pydantic's
    wording of an error type replaced by ``wording`` (a text, or a function of the error; default
    :data:`WORDING`)."""
    words = WORDING | (wording or {})
    out = []
    for e in exc.errors(include_url=False):
        path = field_path(tuple(e["loc"]), index_base)
        column = ".".join(p for p in (prefix, path) if p) or None
        text = words.get(e["type"], e["msg"])
        text = text(e) if callable(text) else text
        # Pydantic prefixes the message of a ValueError raised in a validator with "Value error, ".
        if e["type"] == "value_error" and text.startswith("Value error, "):
            text = text[len("Value error, "):]
        out.append(Problem(source, row, column, text))
    return out


def raise_at(errors: list[tuple[str, Any, str, str]], title: str) -> None:
    """Raise every error (field, input, kind, reason) a validator found, each at its field ("": the field being
    validated), so all are reported and named (a plain ValueError stops at the first and, in a validator of the
    whole model, names no field)."""
    if errors:
        raise ValidationError.from_exception_data(title, [
            InitErrorDetails(type=reason(kind, text), loc=(name,) if name else (), input=value)
            for name, value, kind, text in errors])


#: Refrigerant amounts each method needs, beyond the required columns.
METHOD_FIELDS = {"mass_balance": ("inventory_start", "inventory_end", "purchased"),
                 "screening": ("charge", "annual_leak_rate")}


# -- reading a cell as the importer reads it ------------------------------------------------------------------
def _is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "") or (
        isinstance(value, float) and math.isnan(value))


def finite_number(value) -> float:
    """A finite float from a number or its text ("1200"): the cells of files read field by field."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise reason("number", f"'{value}' is not a number") from None
    if not math.isfinite(number):
        raise reason("finite_number", f"'{value}' is not a finite number")
    return number


def _number(value) -> float:
    """A finite float; text is parsed by pandas, as :mod:`zerocarbon.io.tables` parses a column."""
    if isinstance(value, bool):
        raise reason("number", f"'{value}' is not a number")
    if isinstance(value, (int, float)):
        number = float(value)
        shown = value
    else:
        import pandas as pd

        shown = str(value).strip()
        number = float(pd.to_numeric(pd.Series([shown], dtype=object), errors="coerce").astype(float).iloc[0])
        if math.isnan(number):
            raise reason("number", f"'{shown}' is not a number")
    if not math.isfinite(number):
        raise reason("finite_number", f"'{shown}' is not a finite number")
    return number


def _date(value) -> date:
    if isinstance(value, date):
        return value
    import pandas as pd

    shown = str(value).strip()
    parsed = pd.to_datetime(pd.Series([shown]), errors="coerce", format="ISO8601").iloc[0]
    if pd.isna(parsed):
        raise reason("date", f"'{shown}' is not an ISO date (YYYY-MM-DD)")
    return parsed.date()


def _boolean(value) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE | FALSE:
        return text in TRUE
    raise reason("boolean", f"'{value}' is not true/false")


def _sign(c: Column, v: float) -> str | None:
    if c.check == "nonneg" and v < 0:
        return f"negative value {v} is not allowed"
    if c.check == "positive" and v <= 0:
        return f"value {v} must be greater than zero"
    if c.check == "fraction" and not 0 <= v <= 1:
        return f"{v} is not a fraction between 0 and 1"
    return None


def _over(v: float, unit: str, ceilings: tuple[Ceiling, ...]) -> str | None:
    """Beyond the ceiling of ``unit``'s dimension (``unit`` "": the first ceiling, a fixed unit)?"""
    from zerocarbon.errors import ZerocarbonError
    from zerocarbon.units import scale

    for m in ceilings:
        try:
            factor = scale(unit, m.unit) if unit else 1.0
        except ZerocarbonError:  # another dimension: the next ceiling may be of this one
            continue
        if abs(v) * factor <= m.value:
            return None
        given = f" {unit}" if unit else ""
        limit = f"{number_text(m.value)} {m.unit}".strip()
        return f"{number_text(v)}{given} is beyond the ceiling of {limit} per row ({m.reason})"
    return None


def _unit_rules(kind: str) -> dict[str, tuple[str, str]]:
    """Unit column -> (a unit of the dimension it must have, what to call it); "" accepts any unit pint knows."""
    rules = {}
    if kind in ENERGY_UNIT_KINDS:
        rules["unit"] = ("kWh", "an energy unit")
    if kind in MASS_UNIT_KINDS:
        rules["unit"] = ("kg", "a mass unit")
    if kind == "fuel":
        rules["unit"] = ("", "")
    if kind == "heat":
        rules["supplier_factor_unit"] = ("kg/GJ", "a mass per energy unit (e.g. t/GJ)")
    return rules


def _unit_problem(text: str, want: str, what: str) -> str | None:
    from zerocarbon.errors import ZerocarbonError
    from zerocarbon.units import parse_unit, scale

    try:
        if want == "kg/GJ":
            scale(text, want)
        elif want and parse_unit(text).dimensionality != parse_unit(want).dimensionality:
            return f"unit '{text}' is not {what}"
        else:
            parse_unit(text)
    except ZerocarbonError as exc:
        return f"'{text}' is not {what}" if want == "kg/GJ" else str(exc)
    return None


def _choices(kind: str, name: str) -> list[str] | None:
    """The values a text column of ``kind`` takes, when they are a fixed list (compared exactly)."""
    from zerocarbon.core.instruments import instrument_technologies, instrument_types

    if kind == "instrument" and name == "type":
        return list(instrument_types())
    if kind == "instrument" and name == "technology":
        return list(instrument_technologies())
    if kind == "refrigerant" and name == "method":
        return list(METHOD_FIELDS)
    if (kind, name) in CHOICES:
        return list(CHOICES[(kind, name)])
    return None


def _text_problem(kind: str, name: str, text: str) -> str | None:
    """What is wrong with a text cell that has a rule of its own (the importer's words)."""
    if kind in SUPPLY_KINDS:
        from zerocarbon.io.tables import text_problem

        return text_problem(kind, name, text)
    if kind == "fuel" and name == "use":
        from zerocarbon.core.ghg.combustion import is_combustion_use

        return None if is_combustion_use(text) else f"'{text}' is not stationary, mobile or nonroad.<equipment>"
    if kind == "fuel" and name == "basis":
        from zerocarbon.core.ghg.combustion import normalise_basis
        from zerocarbon.errors import ZerocarbonError

        try:
            normalise_basis(text)
        except ZerocarbonError as exc:
            return str(exc)
        return None
    choices = _choices(kind, name)
    if choices is None or text in choices:
        return None
    if name == "method":
        return f"'{text}' is not mass_balance or screening"
    what = "an instrument type" if name == "type" else "a technology"
    return f"'{text}' is not {what}; use one of {', '.join(choices)}"


def _cell(kind: str, c: Column):
    """The validator of one column: blank, type, sign or fraction, ceiling, and a unit's dimension. The row's
    unit column is validated before its amounts (see :func:`row_model`), so an amount's ceiling is converted
    from the row's own unit, as the importer does."""
    unit_rule = _unit_rules(kind).get(c.name)

    def check(value, info: ValidationInfo):
        if _is_blank(value):
            if c.required:
                raise reason("required", "value is required")
            return "" if c.type == "str" else (False if c.type == "bool" else None)
        if c.type == "str":
            text = value.strip() if isinstance(value, str) else str(value)
            wrong = _unit_problem(text, *unit_rule) if unit_rule else _text_problem(kind, c.name, text)
            if wrong:
                raise reason("unit", wrong)
            return text
        if c.type == "date":
            return _date(value)
        if c.type == "bool":
            return _boolean(value)
        v = _number(value)
        if c.type == "int" and v % 1 != 0:
            raise reason("whole_number", f"'{value}' is not a whole number")
        wrong = [_sign(c, v)]
        if c.max and not c.unit_column:
            wrong.append(_over(v, "", c.max))
        elif c.max and info.data.get(c.unit_column):  # absent: the unit is wrong, and refused on its own
            wrong.append(_over(v, info.data[c.unit_column], c.max))
        raise_at([("", value, "range", w) for w in wrong if w], c.name)
        return int(v) if c.type == "int" else v

    return check


def _example(c: Column):
    """The declared example as the JSON value it stands for (a number, a boolean, an ISO date string)."""
    if c.type in ("float", "int"):
        return int(c.example) if c.type == "int" else float(c.example)
    return _boolean(c.example) if c.type == "bool" else c.example


_TYPES = {"str": str, "float": float, "int": int, "date": date, "bool": bool}


def _schema_extra(kind: str, c: Column) -> dict:
    """What JSON Schema says of a column beyond its type: choices, bounds, ceilings, the unit column, Chinese
    headers."""
    extra: dict[str, Any] = {"x-aliases": list(c.aliases)}
    if (choices := _choices(kind, c.name)) is not None:
        extra["enum"] = choices
    if c.check in ("nonneg", "fraction"):
        extra["minimum"] = 0
    if c.check == "positive":
        extra["exclusiveMinimum"] = 0
    if c.check == "fraction":
        extra["maximum"] = 1
    if c.max:
        extra["x-ceilings"] = [{"value": m.value, "unit": m.unit, "reason": m.reason} for m in c.max]
        if c.unit_column:
            extra["x-unit-column"] = c.unit_column
        else:  # a fixed unit: the ceiling is a plain bound
            extra["maximum"] = min(c.max[0].value, extra.get("maximum", math.inf))
    return extra


def _field(kind: str, c: Column):
    python_type = _TYPES[c.type]
    if not (c.required or c.type in ("str", "bool")):  # a blank optional amount or date is None
        python_type = python_type | None
    annotation = Annotated[python_type, BeforeValidator(_cell(kind, c))]
    ceiling = (" Ceiling per row: " + "; ".join(f"{number_text(m.value)} {m.unit}".strip() for m in c.max)
               + (f" (after converting from the unit in `{c.unit_column}`)" if c.unit_column else "") + "."
               ) if c.max else ""
    extra = _schema_extra(kind, c)
    default = ... if c.required else ("" if c.type == "str" else (False if c.type == "bool" else None))
    meaning = c.description + "." * (not c.description.endswith("."))
    return annotation, Field(default, title=c.name, description=meaning + ceiling, examples=[_example(c)],
                             validation_alias=AliasChoices(c.name, *c.aliases), json_schema_extra=extra)


# -- rows ------------------------------------------------------------------------------------------------
class ActivityRow(BaseModel):
    """Base of the row models; the fields come from ``io.schemas``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    row_kind: ClassVar[str] = ""

    @model_validator(mode="after")
    def _between_columns(self):
        errors = []
        if self.row_kind == "refrigerant":
            errors += self._method_fields()
        if self.row_kind in SUPPLY_KINDS:
            errors += self._supply_rules()
        for start, end, what in (("period_start", "period_end", "period"), ("vintage_start", "vintage_end", "vintage")):
            if hasattr(self, start) and getattr(self, end) < getattr(self, start):
                errors.append((end, getattr(self, end), "order", f"{what} ends before it starts"))
        raise_at(errors, type(self).__name__)
        return self

    def _supply_rules(self) -> list[tuple]:
        """The importer's rules between columns (:func:`zerocarbon.io.tables.row_rules`), on this one row."""
        import pandas as pd

        from zerocarbon.io.tables import row_rules

        cells = {}
        for c in SCHEMAS[self.row_kind]:
            v = getattr(self, c.name)
            cells[c.name] = float("nan") if v is None and c.type in ("float", "int") else v
        frame = pd.DataFrame([cells])
        for c in SCHEMAS[self.row_kind]:
            if c.type in ("float", "int"):
                frame[c.name] = frame[c.name].astype(float)
        out = []
        for mask, column, why in row_rules(self.row_kind, frame):
            if bool(mask[0]):
                out.append((column, getattr(self, column), "rule", why(0) if callable(why) else why))
        return out

    def _method_fields(self) -> list[tuple]:
        """A refrigerant row gives the amounts its method needs (GHG Protocol HFC tool: mass balance or
        screening)."""
        needs = METHOD_FIELDS[self.method]  # one of them: the method cell is checked on its own
        why = f"required for the {self.method.replace('_', '-')} method"
        out = [(f, None, "required", why) for f in needs if getattr(self, f) is None]
        if self.method == "screening" and self.parameter_source == "":
            out.append(("parameter_source", "", "required", "the leak rate needs a source"))
        if self.method == "mass_balance" and not out:
            import pandas as pd

            from zerocarbon.core.ghg.fugitive import MASS_BALANCE_COLUMNS, negative_mass_balances

            terms = pd.DataFrame([{c: getattr(self, c) for c in MASS_BALANCE_COLUMNS} | {"unit": self.unit}])
            out += [("inventory_end", self.inventory_end, "mass_balance", why)
                    for _, why in negative_mass_balances(terms)]
        return out


@cache
def row_model(kind: str) -> type[ActivityRow]:
    """The pydantic model of one row of an activity file of ``kind`` (a key of ``io.schemas.SCHEMAS``)."""
    columns = SCHEMAS[kind]
    units = {c.unit_column for c in columns}
    title = "".join(p.capitalize() for p in kind.split("_")) + "Row"
    model = create_model(title, __base__=ActivityRow, __module__=__name__,
                         __doc__=f"One row of an activity file of kind {kind} (CSV or XLSX; headers in English or Chinese).",
                         # Unit columns first: an amount's ceiling depends on the row's unit.
                         **{c.name: _field(kind, c) for c in sorted(columns, key=lambda c: c.name not in units)})
    model.row_kind = kind
    return model


def row_json_schema(kind: str) -> dict:
    """JSON Schema (2020-12) of one row of ``kind``: properties in file order, ``required`` the required columns,
    ``x-aliases`` the Chinese headers, ``x-ceilings`` and ``x-unit-column`` the ceilings per row."""
    schema = row_model(kind).model_json_schema(mode="validation")
    schema["properties"] = {c.name: schema["properties"][c.name] for c in SCHEMAS[kind]}  # the file's order
    schema["required"] = [c.name for c in SCHEMAS[kind] if c.required]
    return {"$schema": JSON_SCHEMA_DIALECT, "$id": f"urn:zerocarbon:schema:activity:{kind}", **schema,
            "x-kind": kind, "x-file": "CSV or XLSX with a header row; one object per data row"}


def row_problems(kind: str, row: dict, source: str = "", rownum: int | None = None) -> list[Problem]:
    """What is wrong with one row (header -> cell) of ``kind``, with the importer's wording; [] if nothing."""
    try:
        row_model(kind).model_validate(row)
    except ValidationError as exc:
        return problems_from(exc, source, rownum, wording={"missing": "value is required",
                                                           "extra_forbidden": "unknown column"})
    return []
