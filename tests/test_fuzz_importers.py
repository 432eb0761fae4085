"""Hostile-but-plausible files for every importer: each one is accepted or refused with the product's validation
error naming the file, and a refused one writes nothing (every table's row count is unchanged).

The inputs are the repository's example files with cells, values and structure mutated (hypothesis); the calls go
through the same service functions as the CLI and the API, on a real SQLite database (``fuzz/targets.py``).
Examples per test: ``FUZZ_EXAMPLES`` (default 12; derandomized, so CI sees the same inputs every run).
Inputs the coverage-guided fuzzer (``python fuzz/run.py TARGET``) found crashing are kept under
``tests/data/fuzz/TARGET/`` and replayed by ``test_found_cases_stay_fixed``.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from fuzz import targets as T  # noqa: E402

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
# No shrinking: a failure already prints the input drawn, and shrinking a slow import would take minutes.
fuzz_settings = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                         suppress_health_check=list(HealthCheck),
                         phases=[Phase.explicit, Phase.reuse, Phase.generate])


@pytest.fixture(scope="module", autouse=True)
def fuzz_env(tmp_path_factory):
    saved = T._ENV
    T._ENV = T.Env(tmp=tmp_path_factory.mktemp("fuzz"))
    yield T._ENV
    T._ENV = saved


def outcome(target: str, data: bytes) -> str:
    """'ok' or 'refused'; any other exception, a problem naming no file or a write on refusal fails the test."""
    return T.TARGETS[target].run(data)


# -- hostile values ---------------------------------------------------------------------------------------------

HOSTILE_TEXT = ["", " ", "NaN", "nan", "-nan", "inf", "-Infinity", "1e309", "-1e309", "-1", "0", "-0", "1e-320",
                "9" * 400, "0x1F", "1,5", "1 000", "１２３", "二十", "1e3", "=1+1", "=HYPERLINK(\"http://x\")",
                "@SUM(A1)", "+cmd|' /C calc'!A0", "\x00", "\ufeff", "'", '"', "\"unclosed", "\\", "\r", "\u202e",
                "2025-13-45", "0000-00-00", "9999-12-31", "6469-06-01", "1677-09-21", "2025-02-29", "TRUE", "是",
                "否", "kWh", "t", "万Nm3", "MWh/h", "kg/0", "Nm3", "𝟙", "a" * 5000, "None", "null", "[]", "{}"]

hostile_cell = st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=12), st.integers().map(str),
                         st.floats(allow_nan=True, allow_infinity=True).map(repr))

hostile_value = st.one_of(
    st.sampled_from([None, True, False, 0, -1, 2**63, -(2**63) - 1, 10**400, 1e308, -1e308, math.nan, math.inf,
                     -math.inf, 5e-324, "", "NaN", "1e309", "-1", "2025-13-45", "9999-12-31T23:59:59Z", [], {},
                     [[[[[]]]]], {"": None}, "x" * 3000, "\x00", "=1+1"]),
    st.integers(), st.floats(), st.text(max_size=10),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=4), st.integers(), max_size=2))


# -- tables -----------------------------------------------------------------------------------------------------

@st.composite
def mutated_table(draw, text: str) -> bytes:
    """A CSV text with cells replaced by hostile values, and damage a person or a program does to a table:
    a header repeated or dropped, rows padded or cut, an encoding other than UTF-8, a BOM, broken quoting,
    the file cut short."""
    rows = T.rows_of(text)
    rows = [r for r in rows if r] or [["x"]]
    for _ in range(draw(st.integers(0, 6))):
        i = draw(st.integers(0, len(rows) - 1))
        if rows[i]:
            rows[i][draw(st.integers(0, len(rows[i]) - 1))] = draw(hostile_cell)
    damage = draw(st.sampled_from(["none", "dup_header", "drop_column", "ragged", "blank_rows", "header_only",
                                   "upper_header", "many_rows"]))
    if damage == "dup_header" and rows[0]:
        j = draw(st.integers(0, len(rows[0]) - 1))
        rows = [r + [r[j] if j < len(r) else ""] for r in rows]
    elif damage == "drop_column" and rows[0]:
        j = draw(st.integers(0, len(rows[0]) - 1))
        rows = [r[:j] + r[j + 1:] for r in rows]
    elif damage == "ragged":
        rows = [r + ["extra"] * (i % 3) if i else r for i, r in enumerate(rows)]
    elif damage == "blank_rows":
        rows = rows[:1] + [[""] * len(rows[0])] * 3 + rows[1:]
    elif damage == "header_only":
        rows = rows[:1]
    elif damage == "upper_header":
        rows = [[c.upper() for c in rows[0]]] + rows[1:]
    elif damage == "many_rows":
        rows = rows[:1] + rows[1:2] * 3000
    buf = io.StringIO()
    csv.writer(buf, lineterminator=draw(st.sampled_from(["\n", "\r\n", "\r"]))).writerows(rows)
    out = buf.getvalue()
    if draw(st.booleans()) and len(out) > 2:
        k = draw(st.integers(0, len(out) - 1))
        out = out[:k] + draw(st.sampled_from(['"', "\x00", ",", "\n", "\ufeff"])) + out[k:]
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16", "latin-1"]))
    data = out.encode(encoding, "replace")
    if draw(st.integers(0, 5)) == 0:
        data = data[:draw(st.integers(0, len(data)))]
    return data


@st.composite
def table_input(draw, text: str) -> tuple[int, bytes]:
    """(table mode of ``fuzz.targets.table_file``, payload): CSV, XLSX built from the cells (formulas stay
    formulas without a saved value), a workbook with two sheets, a cut-short workbook."""
    csv_data = draw(mutated_table(text))
    mode = draw(st.sampled_from([0, 0, 2, 2, 3, 4]))
    if mode == 4:
        book = T.xlsx_bytes(T.rows_of(csv_data.decode("utf-8", "replace")))
        return 4, book[:draw(st.integers(0, len(book)))]
    return mode, csv_data


ACTIVITY_SEEDS = T.seeds_activity()


@fuzz_settings
@given(data=st.data())
def test_activity_files(data):
    seed = data.draw(st.sampled_from(ACTIVITY_SEEDS))
    mode, payload = data.draw(table_input(seed[2:].decode("utf-8")))
    outcome("activity", bytes([seed[0], mode]) + payload)


@fuzz_settings
@given(data=st.data())
def test_credit_files(data):
    mode, payload = data.draw(table_input((ROOT / "examples/claims/credits_2025.csv").read_text("utf-8")))
    outcome("credits", bytes([mode]) + payload)


@fuzz_settings
@given(data=st.data())
def test_supplier_files(data):
    seed = data.draw(st.sampled_from([s for s in T.seeds_suppliers() if s[0] != 3]))
    mode, payload = data.draw(table_input(seed[2:].decode("utf-8")))
    outcome("suppliers", bytes([seed[0], mode]) + payload)


@fuzz_settings
@given(data=st.data())
def test_output_figure_files(data):
    mode, payload = data.draw(table_input(T.TARGETS["outputs"].seeds()[0][1:].decode("utf-8")))
    outcome("outputs", bytes([mode]) + payload)


@fuzz_settings
@given(data=st.data())
def test_meter_files(data):
    seed = data.draw(st.sampled_from(T.seeds_meter()))
    if seed[0] in (0, 1, 3):
        payload = data.draw(mutated_table(seed[1:].decode("utf-8")))
        which = seed[0] if seed[0] == 3 else data.draw(st.sampled_from([0, 1, 2]))
        if which == 2:  # a Parquet file cut short
            pq = T.parquet_bytes(T.rows_of(payload.decode("utf-8", "replace")))
            payload = pq[:data.draw(st.integers(0, len(pq)))]
    else:
        which, payload = 4, data.draw(mutated_yaml(seed[1:]))
    outcome("meter", bytes([which]) + payload)


@fuzz_settings
@given(data=st.data())
def test_energy_input_files(data):
    seed = data.draw(st.sampled_from(T.seeds_energy_inputs()))
    mode, payload = data.draw(table_input(seed[2:].decode("utf-8")))
    which = data.draw(st.sampled_from([seed[0], 1]))
    outcome("energy_inputs", bytes([which, mode]) + payload)


# -- JSON and YAML documents ------------------------------------------------------------------------------------

def _places(tree, path=()):
    """Every (container, key) of a parsed document."""
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield tree, k
            yield from _places(v)
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            yield tree, i
            yield from _places(v)


@st.composite
def mutated_tree(draw, tree):
    """A copy of a parsed document with values replaced, keys removed, list items repeated."""
    tree = json.loads(json.dumps(tree, default=str))
    places = list(_places(tree))
    for _ in range(draw(st.integers(1, 4)) if places else 0):
        container, key = draw(st.sampled_from(places))
        action = draw(st.sampled_from(["replace", "replace", "replace", "delete", "repeat"]))
        try:
            if action == "replace":
                container[key] = draw(hostile_value)
            elif action == "delete":
                del container[key]
            elif isinstance(container, list):
                container.extend([container[key]] * draw(st.integers(1, 50)))
        except (IndexError, KeyError):
            pass
        places = list(_places(tree))
        if not places:
            break
    return tree


def deep(n: int, kind: str = "list") -> str:
    return "[" * n + "]" * n if kind == "list" else '{"a":' * n + "1" + "}" * n


ALIAS_BOMB = ("a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
              "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
              "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
              "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n")
HOSTILE_DOCUMENTS = [b"", b"\xef\xbb\xbf", b"\xff\xfe{\x00}\x00", b"null", b"[]", b"42", b'"text"', b"\x00\x01\x02",
                     deep(3_000).encode(), deep(3_000, "dict").encode(), ALIAS_BOMB.encode(),
                     b"!!python/object/apply:os.system ['true']", b"a: 1\na: 2\n", b"- [unclosed",
                     b"{a: 1, a: 1}", b"\t- tab", "名称: 值\n".encode("gb18030"), b"NaN", b'{"x": NaN}',
                     b"%YAML 9.9\n---\na: 1", b"--- !<tag:yaml.org,2002:binary> AAAA", b"? [a]\n: b\n",
                     b"a: *undefined\n", "\ufeffa: 1".encode("utf-16")]


@st.composite
def mutated_yaml(draw, seed: bytes) -> bytes:
    if draw(st.integers(0, 5)) == 0:
        return draw(st.sampled_from(HOSTILE_DOCUMENTS))
    tree = yaml.safe_load(seed.decode("utf-8-sig"))
    text = yaml.safe_dump(draw(mutated_tree(tree)), allow_unicode=True, sort_keys=False)
    data = text.encode(draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030"])), "replace")
    if draw(st.integers(0, 5)) == 0:
        data = data[:draw(st.integers(0, len(data)))]
    return data


@st.composite
def mutated_json(draw, seed: bytes) -> bytes:
    if draw(st.integers(0, 5)) == 0:
        return draw(st.sampled_from(HOSTILE_DOCUMENTS))
    tree = json.loads(seed.decode("utf-8-sig"))
    data = json.dumps(draw(mutated_tree(tree)), ensure_ascii=draw(st.booleans()), allow_nan=True).encode("utf-8")
    if draw(st.integers(0, 5)) == 0:
        data = data[:draw(st.integers(0, len(data)))]
    return data


YAML_TARGETS = ["index_system", "disclosure", "organisation", "claim_plan", "pathway"]


@pytest.mark.parametrize("target", YAML_TARGETS)
def test_yaml_documents(target):
    seed = T.TARGETS[target].seeds()[0]

    @fuzz_settings
    @given(data=mutated_yaml(seed))
    def check(data):
        outcome(target, data)

    check()


@pytest.mark.parametrize("target", YAML_TARGETS + ["pact"])
@pytest.mark.parametrize("document", range(len(HOSTILE_DOCUMENTS)))
def test_hostile_documents(target, document):
    """Deep nesting, alias bombs, tags, duplicate keys, other encodings: refused (or read), never a crash."""
    outcome(target, HOSTILE_DOCUMENTS[document])


@fuzz_settings
@given(data=st.data())
def test_supplier_specification(data):
    outcome("suppliers", b"\3\0" + data.draw(mutated_yaml(T.seeds_suppliers()[-1][2:])))


@fuzz_settings
@given(data=st.data())
def test_factor_sets(data):
    factors, _, rules = T.TARGETS["factor_set"].seeds()[0].partition(T.RULES_MARK)
    if data.draw(st.booleans()):
        factors = data.draw(mutated_table(factors.decode("utf-8")))
    else:
        rules = data.draw(mutated_yaml(rules))
    outcome("factor_set", factors + T.RULES_MARK + rules)


@fuzz_settings
@given(data=st.data())
def test_pact_files(data):
    seed = data.draw(st.sampled_from(T.TARGETS["pact"].seeds()))
    outcome("pact", data.draw(mutated_json(seed)))


@fuzz_settings
@given(data=st.data())
def test_schedule_problems(data):
    seed = data.draw(st.sampled_from(T.seeds_schedule()))
    if seed[0] == 0:
        outcome("schedule", b"\0" + data.draw(mutated_json(seed[1:])))
    else:
        outcome("schedule", seed[:1] + data.draw(mutated_table(seed[1:].decode("utf-8"))).replace(b",", b" "))


@fuzz_settings
@given(data=st.data())
def test_mqtt_payloads(data):
    seed = data.draw(st.sampled_from(T.seeds_mqtt()))
    meter = data.draw(st.integers(0, 255))
    outcome("mqtt", bytes([meter]) + data.draw(mutated_json(seed[1:])))


# -- the corpus of found cases ----------------------------------------------------------------------------------

FOUND = sorted(p for p in (T.CORPUS).glob("*/*") if p.is_file() and p.suffix != ".md")
def _case(p: Path):
    return pytest.param(p, id=f"{p.parent.name}/{p.name}")


@pytest.mark.parametrize("case", [_case(p) for p in FOUND])
def test_found_cases_stay_fixed(case):
    """Each input a fuzzer found crashing is now read or refused with a validation error, writing nothing."""
    outcome(case.parent.name, case.read_bytes())


def test_every_target_has_a_seed_the_product_accepts(tmp_path):
    """The fuzzers start from valid files, so they reach past the first check of every importer."""
    saved, T._ENV = T._ENV, T.Env(tmp=tmp_path)  # a database that holds none of them yet
    try:
        for name, target in T.TARGETS.items():
            results = [target.run(s) for s in target.seeds()]
            assert "ok" in results, (name, results)
    finally:
        T._ENV = saved


def test_alias_bomb_is_refused_at_once():
    """Found by the hostile-document test: nine aliases per level, eight levels (43 million values) kept the
    index-system validation busy for minutes; it is now refused while reading, naming the file."""
    from zerocarbon.errors import InputError
    from zerocarbon.services import assessment

    with pytest.raises(InputError) as e:
        assessment.validate_system("bomb.yaml", ALIAS_BOMB)
    assert e.value.problems[0].source == "bomb.yaml" and "expand" in str(e.value)
