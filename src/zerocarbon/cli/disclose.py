"""`zerocarbon disclose ...`: sustainability disclosure from the stored inventory (docs/disclosure.md): the
frameworks and their catalogue, the disclosure inputs a person enters, the facts of a year, the pre-publication
checks, the report files (XLSX, HTML, PDF, Inline XBRL; English and Chinese), publishing, and the verifier that
recomputes every reported number from its lineage.

Exit codes: 0 done; 1 `check` found an error check or `verify` found a difference; 2 bad input (a message says
what to fix).
"""
from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.table import Table

from zerocarbon.cli.common import (ActorOpt, DbOpt, JsonOpt, OrgOpt, YearOpt, actor, console, emit_json, err, escape,
                                   group)

app = group("Disclosure (HKEX ESG, ISSB S2, GHG Protocol, GRI, CDP, ESRS E1, SSE/SZSE/BSE): inputs, facts, "
            "checks, report files, publishing, verification.")
inputs_app = group("Disclosure inputs: the narratives and figures no store holds (water, revenue, policies).")
app.add_typer(inputs_app, name="inputs")

# A check or a verification that ran and found something to fix before publishing.
EXIT_FINDINGS = 1


class Fmt(str, Enum):
    xlsx = "xlsx"
    html = "html"
    pdf = "pdf"
    ixbrl = "ixbrl"


class Lang(str, Enum):
    en = "en"
    zh = "zh"


FrameworksOpt = Annotated[Optional[list[str]], typer.Option(
    "--framework", "-f", help="framework id (repeatable): hkex, issb_s2, ghgp, gri, cdp, esrs_e1, cn_exchange; "
                              "default: every framework")]
LEVEL_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def _fold(table: Table) -> None:
    """Wrap long cells instead of cutting them: Chinese has no spaces to break a line at."""
    for column in table.columns:
        column.overflow = "fold"


def _data(obj: Any) -> Any:
    from zerocarbon.services.disclosure_files import as_data

    return as_data(obj)


def _value(value: Any, unit: str) -> str:
    """A fact's value as a reader wants it: shares in per cent, numbers with separators, text as it is."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes / 是" if value else "no / 否"
    if isinstance(value, (int, float)):
        if unit == "fraction":
            return f"{100 * value:.1f} %"
        if unit == "year" or isinstance(value, int):
            return str(value)
        if value != 0 and abs(value) < 1:
            return f"{value:.4g}"  # an intensity per CNY or per unit: significant digits, never a false 0.000
        return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.1f}"
    text = str(value).replace("\n", " ")
    return text if len(text) <= 80 else text[:77] + "..."


def _exact(x: Any) -> str:
    """A number to 12 significant digits: a verification difference can be far below what a report rounds to."""
    if x is None:
        return "none"
    return f"{x:.12g}" if isinstance(x, (int, float)) and not isinstance(x, bool) else escape(str(x))


def _level(level: str) -> str:
    style = LEVEL_STYLE.get(level, "")
    return f"[{style}]{level}[/]" if style else level


class _Bar:
    """A rich progress bar fed by a service's progress callback, whatever it reports: a label, (done, total)."""

    def __init__(self, label: str, disable: bool = False):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=err, transient=True,
                                 disable=disable or not err.is_terminal)
        self.label = label
        self.task = None

    def __enter__(self):
        self.progress.__enter__()
        self.task = self.progress.add_task(self.label, total=None)
        return self

    def __exit__(self, *exc):
        return self.progress.__exit__(*exc)

    def __call__(self, *args, **kwargs) -> None:
        numbers = [a for a in args if isinstance(a, int) and not isinstance(a, bool)]
        words = [str(a) for a in args if isinstance(a, (str, Path))]
        update: dict[str, Any] = {}
        if len(numbers) >= 2:
            update.update(completed=numbers[-2], total=numbers[-1])
        elif numbers:
            update.update(completed=numbers[0])
        if words:
            update["description"] = f"{self.label}: {words[0]}"
        self.progress.update(self.task, **update)


@app.command("frameworks")
def frameworks(as_json: JsonOpt = False) -> None:
    """The reporting frameworks: id, name in English and Chinese, edition, source, XBRL taxonomy."""
    from zerocarbon.services import disclosure

    rows = disclosure.frameworks()
    if as_json:
        emit_json(_data(rows))
        return
    table = Table("id", "framework / 框架", "edition / 版本", "XBRL", "source / 来源", title="disclosure frameworks")
    _fold(table)
    for f in rows:
        table.add_row(f.id, escape(f"{f.name_en} / {f.name_zh}"), escape(f.edition), "yes" if f.taxonomy else "-",
                      escape(f.source))
    console.print(table)


@app.command("catalogue")
def catalogue(framework: Annotated[Optional[str], typer.Option("--framework", "-f", help="only this framework's "
                                                                                         "data points")] = None,
              as_json: JsonOpt = False) -> None:
    """Every data point a framework asks for: id, label, unit, the fact that answers it, how much it is required."""
    from zerocarbon.services import disclosure

    points = disclosure.catalogue(framework)
    if as_json:
        emit_json(_data(points))
        return
    table = Table("framework", "id", "data point / 披露项", "unit", "fact", "requirement", "XBRL", "confidence",
                  title=f"disclosure catalogue{' of ' + framework if framework else ''} ({len(points)} data points)")
    for p in points:
        table.add_row(p.framework, escape(p.id), escape(f"{p.label_en} / {p.label_zh}"), escape(p.unit),
                      escape(p.fact), p.requirement, escape(p.xbrl or "-"), p.confidence)
    console.print(table)


@inputs_app.command("import")
def inputs_import(file: Annotated[Path, typer.Argument(help="YAML file: organisation, year, inputs: [{key, value | "
                                                            "en/zh, unit, source}] (docs/disclosure.md)")],
                  org: OrgOpt, year: YearOpt, db: DbOpt = None, actor_name: ActorOpt = None,
                  as_json: JsonOpt = False) -> None:
    """Store the inputs of a YAML file, all or nothing; a key entered again replaces the old value (kept, marked
    superseded)."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import disclosure

    rep = disclosure.import_inputs(open_db(db), org, year, file, actor=actor(actor_name))
    if as_json:
        emit_json(_data(rep))
        return
    console.print(f"{escape(file.name)}: {rep.count} input(s) stored for {escape(org)} {year} / 已保存 {rep.count} 项"
                  f"披露输入", highlight=False)
    if rep.replaced:
        console.print(f"  replaced / 已替换: {escape(', '.join(rep.replaced))}", highlight=False)


@inputs_app.command("list")
def inputs_list(org: OrgOpt, year: YearOpt, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """The disclosure inputs in force for the year, with their source and who entered them."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import disclosure

    rows = disclosure.list_inputs(open_db(db), org, year)
    if as_json:
        emit_json(_data(rows))
        return
    table = Table("key", "value", "unit", "source / 来源", "entered by / 录入人",
                  title=f"disclosure inputs of {escape(org)} {year}")
    for i in rows:
        shown = _value(i.value, i.unit) + (f" / {_value(i.value_zh, i.unit)}" if i.value_zh else "")
        table.add_row(escape(i.key), escape(shown), escape(i.unit), escape(i.source), escape(i.entered_by or "-"))
    console.print(table)
    if not rows:
        console.print(f"no inputs yet / 尚无披露输入: `zerocarbon disclose inputs import FILE --org {escape(org)} "
                      f"--year {year}`", highlight=False)


@app.command("facts")
def facts(org: OrgOpt, year: YearOpt, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Every fact of the year (computed from the stored inventory, or entered) with its unit, or why it is missing."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import disclosure
    from zerocarbon.services.disclosure_facts import build_facts

    sessions = open_db(db)
    inputs = {i.key: i for i in disclosure.list_inputs(sessions, org, year)}
    found = build_facts(sessions, org, year, inputs=inputs)
    if as_json:
        emit_json({key: _data(fact) for key, fact in found.items()})
        return
    table = Table("fact", "value", "unit", "status", "source / reason (原因)", title=f"facts of {escape(org)} {year}")
    reported = 0
    for key, f in found.items():
        reported += f.status == "reported"
        why = f.lineage.get("source", "") if f.status == "reported" else f"{f.reason} / {f.reason_zh}"
        status = "[green]reported[/]" if f.status == "reported" else f"[yellow]{f.status}[/]"
        table.add_row(escape(key), escape(_value(f.value, f.unit)), escape(f.unit), status, escape(str(why)))
    console.print(table)
    console.print(f"{reported} of {len(found)} facts reported / 已有 {reported} / {len(found)} 项", highlight=False)


def _counts(report) -> tuple[int, int, int]:
    statuses = [line.status for line in report.lines]
    return statuses.count("reported"), statuses.count("missing"), statuses.count("not_applicable")


@app.command("check")
def check(org: OrgOpt, year: YearOpt, framework: FrameworksOpt = None, db: DbOpt = None,
          as_json: JsonOpt = False) -> None:
    """The pre-publication checks per framework (completeness, consistency, change); exit 1 when any is an error."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import disclosure

    with _Bar("building reports / 生成报告", disable=as_json) as bar:
        reports = disclosure.build(open_db(db), org, year, framework or None, progress=bar)
    errors = sum(len(r.errors) for r in reports)
    if as_json:
        emit_json([{"framework": r.framework.id, "reported": _counts(r)[0], "missing": _counts(r)[1],
                    "not_applicable": _counts(r)[2], "checks": _data(r.checks)} for r in reports])
    else:
        for r in reports:
            done, missing, na = _counts(r)
            console.print(f"[bold]{escape(r.framework.id)}[/] {escape(r.framework.name_en)} / "
                          f"{escape(r.framework.name_zh)}: {done} reported / 已披露, {missing} missing / 缺失"
                          + (f", {na} not applicable / 不适用" if na else ""), highlight=False)
            if not r.checks:
                console.print("  no findings / 无检查发现", highlight=False)
                continue
            table = Table("level", "check", "data point", "message", "说明")
            _fold(table)
            for c in r.checks:
                table.add_row(_level(c.level), c.kind, escape(c.point or "-"), escape(c.message), escape(c.message_zh))
            console.print(table)
        console.print(f"[bold red]{errors} error(s) / 个错误[/]: fix them before `zerocarbon disclose publish`"
                      if errors else "[bold green]no errors / 无错误[/]: ready to publish once reviewed",
                      highlight=False)
    if errors:
        raise typer.Exit(EXIT_FINDINGS)


@app.command("build")
def build(org: OrgOpt, year: YearOpt,
          out: Annotated[Path, typer.Option("--out", help="folder the files are written to (created if needed)")],
          framework: FrameworksOpt = None,
          fmt: Annotated[Optional[list[Fmt]], typer.Option(
              "--format", help="file format (repeatable); default xlsx, html, pdf and ixbrl (Inline XBRL only for "
                               "issb_s2 and esrs_e1)")] = None,
          lang: Annotated[Optional[list[Lang]], typer.Option(
              "--lang", help="language of the HTML and PDF files (repeatable); default en and zh")] = None,
          db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Write the draft report files of the year (nothing is stored) and list them."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import disclosure, disclosure_files

    formats = tuple(f.value for f in fmt) if fmt else disclosure_files.FORMATS
    langs = tuple(x.value for x in lang) if lang else disclosure_files.LANGS
    with _Bar("building reports / 生成报告", disable=as_json) as bar:
        reports = disclosure.build(open_db(db), org, year, framework or None, progress=bar)
    with _Bar("writing files / 写入文件", disable=as_json) as bar:
        written = disclosure_files.write_reports(reports, out, formats=formats, langs=langs, progress=bar)
    if as_json:
        emit_json({"files": [str(p) for p in written],
                   "reports": [{"framework": r.framework.id, "fingerprint": r.fingerprint,
                                "errors": len(r.errors)} for r in reports]})
        return
    table = Table("file / 文件", "bytes", title=f"{len(written)} file(s) written to {escape(str(out))}")
    for p in written:
        size = Path(p).stat().st_size if Path(p).exists() else 0
        table.add_row(escape(str(p)), f"{size:,}")
    console.print(table)
    for r in reports:
        if r.errors:
            console.print(f"[yellow]{escape(r.framework.id)}: {len(r.errors)} error check(s)[/]; the files are a "
                          f"draft until `zerocarbon disclose check` passes / 存在错误检查,文件仅为草稿",
                          highlight=False)


@app.command("publish")
def publish(org: OrgOpt, year: YearOpt, framework: FrameworksOpt = None, db: DbOpt = None,
            actor_name: ActorOpt = None, as_json: JsonOpt = False) -> None:
    """Publish the year's reports: store their facts and fingerprint (refused while any report has an error check)."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import disclosure

    pub = disclosure.publish(open_db(db), org, year, actor=actor(actor_name), frameworks=framework or None)
    if as_json:
        emit_json(_data(pub))
        return
    if getattr(pub, "unchanged", False):
        console.print(f"already published as publication {pub.id} on {pub.published_at:%Y-%m-%d %H:%M} with the same "
                      "figures: nothing new stored / 此前已以相同数据发布,未新增记录", highlight=False)
        return
    console.print(f"publication {pub.id}: {escape(org)} {pub.year} ({escape(', '.join(pub.frameworks))}) published "
                  f"by {escape(str(pub.published_by))} at {pub.published_at} / 已发布; fingerprint "
                  f"{escape(pub.fingerprint)}", highlight=False)


@app.command("publications")
def publications(org: OrgOpt, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Every publication of the organisation: year, frameworks, fingerprint, when and by whom."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import disclosure

    rows = disclosure.publications(open_db(db), org)
    if as_json:
        emit_json(_data(rows))
        return
    table = Table("id", "year / 年度", "frameworks / 框架", "published at / 发布时间", "by / 发布人", "fingerprint",
                  title=f"publications of {escape(org)}")
    for p in rows:
        table.add_row(str(p.id), str(p.year), escape(", ".join(p.frameworks)), str(p.published_at),
                      escape(str(p.published_by)), escape(p.fingerprint))
    console.print(table)


@app.command("verify")
def verify(org: OrgOpt, year: YearOpt, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Recompute every reported number from its lineage and compare; exit 1 on any difference."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import disclosure

    found = disclosure.verify(open_db(db), org, year)
    differ = [v for v in found if not v.ok]
    if as_json:
        emit_json({"checked": len(found), "differences": len(differ), "verifications": _data(found)})
    else:
        if differ:
            table = Table("framework", "data point", "fact", "reported", "recomputed",
                          title=f"[bold red]{len(differ)} difference(s) / 处不一致[/]")
            for v in differ:
                table.add_row(v.framework, escape(v.point), escape(v.fact), _exact(v.reported), _exact(v.recomputed))
            console.print(table)
        else:
            console.print(f"[bold green]{len(found)} number(s) recomputed from their lineage, no difference / "
                          f"全部一致[/]", highlight=False)
    if differ:
        raise typer.Exit(EXIT_FINDINGS)
