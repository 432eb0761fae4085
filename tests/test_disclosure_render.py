"""The disclosure renderers on a hand-built report (tests/disclosure_sample.py): what each format must show, and
that it shows it the way the reader needs it (numbers as numbers, reasons instead of blanks, Chinese text that a
PDF reader can find, Inline XBRL that Arelle accepts)."""
from __future__ import annotations

import dataclasses
import re
import xml.etree.ElementTree as ET
from io import BytesIO

import pytest
from openpyxl import load_workbook

from tests.disclosure_sample import SCOPE1, sample_report
from zerocarbon.core.disclosure.model import MISSING, REPORTED, ReportLine
from zerocarbon.io.disclosure import file_name, render, validate_ixbrl, write_reports
from zerocarbon.io.disclosure.ixbrl import check_ixbrl, xbrl_unit

IX = "{http://www.xbrl.org/2013/inlineXBRL}"


@pytest.fixture(scope="module")
def report():
    return sample_report("hkex")


# --- XLSX ------------------------------------------------------------------------------------------------------

def test_xlsx_numbers_are_numbers_and_missing_shows_its_reason(report):
    wb = load_workbook(BytesIO(render(report, "xlsx", "en")))
    assert wb.sheetnames == ["hkex 2025", "Checks", "Lineage"]
    ws = wb["hkex 2025"]
    rows = list(ws.iter_rows(values_only=False))
    header = next(r for r in rows if r[0].value == "ID / 编号")
    names = [c.value for c in header]
    assert names[:4] == ["ID / 编号", "Data point (English) / 披露项(英文)", "Data point (Chinese) / 披露项(中文)",
                         "Value / 数值"]
    by_id = {r[0].value: r for r in rows}
    s1 = by_id["A1.2-s1"]
    assert s1[3].value == SCOPE1 and s1[3].number_format == "#,##0.0"
    assert s1[2].value == "范围一温室气体排放总量"
    assert isinstance(s1[5].value, float) and s1[6].number_format.startswith("+0.0%")
    assert by_id["A1.2-s1 · CO2"][3].value == 11800.2
    share = by_id["A2.1-re"]
    assert share[3].value == 0.184 and share[3].number_format == "0.0%"
    s3 = by_id["A1.2-s3"]
    assert "No Scope 3 category" in s3[3].value and "尚未评估" in s3[3].value
    assert s3[3].value not in (0, None, "")
    assert by_id["A1.2-s2l"][7].value == "Yes / 是" and "grid factor" in by_id["A1.2-s2l"][8].value
    # A prior year that does not exist is said, not left blank.
    assert by_id["A1.2-s2m"][5].value == "no prior-year figure / 无上年数据"
    # Text that starts like a formula is neutralised; a narrative with markup stays text.
    assert by_id["B-plan"][3].value.startswith("Both plants")

    checks = [r for r in wb["Checks"].iter_rows(min_row=2, values_only=True)]
    assert {c[1] for c in checks} == {"Error / 错误", "Warning / 警告", "Note / 提示"}
    lineage = {r[1]: r for r in wb["Lineage"].iter_rows(min_row=2, values_only=True)}
    s1_lineage = lineage["A1.2-s1"]
    assert s1_lineage[2] == "ghg.scope1" and "scope=1" in s1_lineage[4]
    assert "fuel_2025_kunshan.xlsx" in s1_lineage[6] and "sha256=3a7bd3e2" in s1_lineage[6]
    assert "CN-2025.1:natural_gas_ncv" in s1_lineage[7]


# --- HTML ------------------------------------------------------------------------------------------------------

def test_html_is_self_contained_escaped_and_linked(report):
    page = render(report, "html", "en").decode()
    assert "<script" not in page and 'src="http' not in page and "<link" not in page
    assert page.count("<svg") == 2  # scopes and energy mix, inline
    # The narrative's "&" and "<2028>" arrive escaped, never as markup.
    assert "&amp; replace gas boilers" in page and "&lt;2028&gt;" in page and "<2028>" not in page
    assert "华科电脑股份有限公司 Huake Computer Ltd." in page and "c0ffee00d15c105e" in page
    assert "HKEX ESG Reporting Code (Appendix C2)" in page and "2026-03-01T09:30:00Z" in page
    # Every link to the lineage appendix lands on an entry, and every entry links back.
    targets = set(re.findall(r'href="#(lineage-[^"]+)"', page))
    anchors = set(re.findall(r'id="(lineage-[^"]+)"', page))
    assert targets and targets <= anchors
    assert re.search(r'<a href="#lineage-0-A1-2-s1">12,345.6</a>', page)
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "duplicate ids (charts must not share ids)"
    assert "No Scope 3 category has been evaluated" in page
    assert "The 2024 grid factor was replaced" in page and "-5.1 %" in page


def test_html_in_chinese_translates_fixed_labels(report):
    page = render(report, "html", "zh").decode()
    for label in ("数据溯源", "发布前检查", "上一年度", "范围一温室气体排放总量", "2025年尚未评估任何范围三类别", "无上年数据"):
        assert label in page
    for english in ("Lineage of the figures", "Checks before publication", "Prior year", "Data point"):
        assert english not in page
    assert 'lang="zh-CN"' in page


def test_unknown_format_and_language_are_refused(report, tmp_path):
    with pytest.raises(ValueError, match="format"):
        render(report, "docx", "en")
    with pytest.raises(ValueError, match="language"):
        render(report, "html", "fr")
    with pytest.raises(ValueError, match="taxonomy"):
        render(report, "ixbrl", "en")
    with pytest.raises(ValueError):
        write_reports([report], tmp_path, formats=("html", "odt"))
    assert list(tmp_path.iterdir()) == []


# --- PDF -------------------------------------------------------------------------------------------------------

def test_pdf_pages_text_and_chinese(report, tmp_path):
    pdfium = pytest.importorskip("pypdfium2")
    for lang, expected in (("en", ("12,345.6", "Huake Computer Ltd.", "Page 1 of")),
                           ("zh", ("12,345.6", "华科电脑股份有限公司", "范围一温室气体排放总量", "第 1 页"))):
        data = render(report, "pdf", lang)
        assert data.startswith(b"%PDF")
        pdf = pdfium.PdfDocument(data)
        assert len(pdf) >= 3
        png = tmp_path / f"{lang}-page1.png"
        pdf[0].render(scale=1).to_pil().save(png)
        assert png.stat().st_size > 5000
        text = "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
        for needle in expected:
            assert needle in text, (lang, needle)
        assert pdf[0].get_size() == pytest.approx((595.3, 841.9), abs=1)  # A4 in points
        pdf.close()


def test_pdf_without_weasyprint_names_what_to_install(report, monkeypatch):
    import sys
    from zerocarbon.io.disclosure.pdf import PdfUnavailableError
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # as if its libraries could not be loaded
    with pytest.raises(PdfUnavailableError, match="libpango-1.0-0.*fonts-wqy-microhei"):
        render(report, "pdf", "en")


# --- iXBRL -----------------------------------------------------------------------------------------------------

def test_ixbrl_tags_reported_numbers_with_an_element_only():
    report = sample_report("esrs_e1")
    doc = render(report, "ixbrl", "zh")
    root = ET.fromstring(doc)
    facts = {el.get("name"): el for el in root.iter(f"{IX}nonFraction")}
    s1 = facts["esrs:GrossScope1GreenhouseGasEmissions"]
    assert s1.text == "12,345.6" and s1.get("decimals") == "1" and s1.get("format") == "ixt:num-dot-decimal"
    assert s1.get("unitRef") == "u_tCO2e" and s1.get("contextRef") == "c_2025"
    share = facts["esrs:PercentageOfRenewableSourcesInTotalEnergyConsumption"]
    assert share.text == "18.4" and share.get("scale") == "-2" and share.get("decimals") == "3"
    # Scope 3 is missing and the GJ line has no element: shown, not tagged.
    assert "esrs:GrossScope3GreenhouseGasEmissions" not in facts and len(facts) == 5
    assert [el.get("name") for el in root.iter(f"{IX}nonNumeric")] == [
        "esrs:DisclosureOfTransitionPlanForClimateChangeMitigationExplanatory"]
    text = doc.decode()
    assert "utr:tCO2e" in text and 'xmlns:utr="http://www.xbrl.org/2009/utr"' in text
    assert 'scheme="urn:zerocarbon:organisation-code">LAPTOPCO<' in text
    assert "<xbrli:startDate>2025-01-01</xbrli:startDate><xbrli:endDate>2025-12-31</xbrli:endDate>" in text
    assert 'xlink:href="https://xbrl.efrag.org/taxonomy/esrs/2023-12-22/esrs_all.xsd"' in text
    assert "No Scope 3 category" in text and "范围一温室气体排放总量" in text and "319,104.9" in text


def test_ixbrl_negative_and_yes_no_values():
    report = sample_report("esrs_e1")
    point = report.lines[0].point
    lines = [dataclasses.replace(report.lines[0], point=dataclasses.replace(point, id="neg"), value=-12.5,
                                 breakdown=()),
             ReportLine(dataclasses.replace(point, id="yn", unit="bool", xbrl="esrs:HasTransitionPlan"), False,
                        REPORTED)]
    text = render(dataclasses.replace(report, lines=lines), "ixbrl", "en").decode()
    # The reader sees the minus sign; the fact carries it as sign="-" on the absolute value.
    assert re.search(r'>-<ix:nonFraction[^>]*sign="-"[^>]*>12.50</ix:nonFraction>', text)
    assert re.search(r'<ix:nonNumeric[^>]*format="ixt:fixed-false">No</ix:nonNumeric>', text)


def test_xbrl_units():
    assert xbrl_unit("tCO2e") == ("u_tCO2e", "utr:tCO2e", "")
    assert xbrl_unit("tCO2e/CNY") == ("u_tCO2e_per_CNY", "utr:tCO2e", "iso4217:CNY")
    assert xbrl_unit("fraction") == ("u_fraction", "xbrli:pure", "")
    assert xbrl_unit("tce") is None and xbrl_unit("MWh/unit") is None


def test_ixbrl_validates_offline_and_broken_documents_are_caught(tmp_path):
    pytest.importorskip("arelle")
    report = sample_report("issb_s2")
    lei = dataclasses.replace(report, meta={**report.meta, "lei": "5493001KJTIIGC8Y1R12"})
    good = tmp_path / "issb_s2_2025.xhtml"
    good.write_bytes(render(lei, "ixbrl", "en"))
    result = check_ixbrl(good)
    assert result.problems == []
    # Offline the taxonomy is not there: said once for the schemaRef, and once per fact it would define.
    assert any("ifrs_sds_entry_point" in m for m in result.taxonomy)
    assert validate_ixbrl(good) == []

    text = good.read_text()
    broken = {
        "no_context": re.sub(r'(<ix:nonFraction[^>]*?) contextRef="[^"]+"', r"\1", text, count=1),
        "bad_number": text.replace(">12,345.6</ix:nonFraction>", ">12.345,6</ix:nonFraction>", 1),
        "unknown_unit": text.replace('unitRef="u_tCO2e"', 'unitRef="u_none"', 1),
    }
    for name, body in broken.items():
        assert body != text, name
        path = tmp_path / f"{name}.xhtml"
        path.write_text(body)
        assert validate_ixbrl(path), name


def test_missing_lines_are_never_zero_in_any_text_format(report):
    missing = [line for line in report.lines if line.status == MISSING]
    assert missing
    page = render(report, "html", "en").decode()
    row = re.search(r'<tr id="row-lineage-3-A1-2-s3".*?</tr>', page, re.S).group(0)
    assert "Missing: No Scope 3 category" in row and ">0<" not in row and "0.0" not in row


# --- writing files ---------------------------------------------------------------------------------------------

def test_write_reports_names_files_and_reports_progress(tmp_path):
    reports = [sample_report("hkex"), sample_report("esrs_e1")]
    seen = []
    paths = write_reports(reports, tmp_path / "out", formats=("xlsx", "html", "ixbrl"), langs=("en", "zh"),
                          progress=lambda done, total, path: seen.append((done, total, path.name)))
    names = [p.name for p in paths]
    assert names == ["hkex_2025.xlsx", "hkex_2025_en.html", "hkex_2025_zh.html",
                     "esrs_e1_2025.xlsx", "esrs_e1_2025_en.html", "esrs_e1_2025_zh.html", "esrs_e1_2025.xhtml"]
    assert [s[0] for s in seen] == list(range(1, 8)) and {s[1] for s in seen} == {7}
    assert all(p.stat().st_size > 0 for p in paths)
    assert not list((tmp_path / "out").glob("*.part"))
    assert file_name(reports[0], "pdf", "zh") == "hkex_2025_zh.pdf"


def _stub_package(path, framework, elements):
    """A taxonomy package (ZIP) whose catalogue maps the framework's entry point onto a schema that defines only
    ``elements``: what a user's real taxonomy package does, at the size of a test."""
    import zipfile
    base = framework.taxonomy.rsplit("/", 1)[0] + "/"
    entry = framework.taxonomy.rsplit("/", 1)[1]
    items = "\n".join(
        f'<xs:element name="{name}" id="e{i}" type="xbrli:{kind}" substitutionGroup="xbrli:item" '
        f'xbrli:periodType="duration" nillable="true"/>' for i, (name, kind) in enumerate(elements.items()))
    schema = f"""<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xbrli="http://www.xbrl.org/2003/instance"
  targetNamespace="{framework.namespace}" elementFormDefault="qualified">
<xs:import namespace="http://www.xbrl.org/2003/instance"
  schemaLocation="http://www.xbrl.org/2003/xbrl-instance-2003-12-31.xsd"/>
{items}
</xs:schema>"""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("stub/META-INF/taxonomyPackage.xml", f"""<?xml version="1.0" encoding="UTF-8"?>
<tp:taxonomyPackage xmlns:tp="http://xbrl.org/2016/taxonomy-package" xml:lang="en">
<tp:identifier>urn:zerocarbon:test:{framework.id}</tp:identifier><tp:name>stub</tp:name><tp:version>1</tp:version>
<tp:entryPoints><tp:entryPoint><tp:name>all</tp:name><tp:entryPointDocument href="{framework.taxonomy}"/>
</tp:entryPoint></tp:entryPoints></tp:taxonomyPackage>""")
        z.writestr("stub/META-INF/catalog.xml", f"""<?xml version="1.0" encoding="UTF-8"?>
<catalog xmlns="urn:oasis:names:tc:entity:xmlns:xml:catalog">
<rewriteURI uriStartString="{base}" rewritePrefix="../tax/"/></catalog>""")
        z.writestr(f"stub/tax/{entry}", schema)
    return path


def test_ixbrl_against_a_taxonomy_package(tmp_path):
    pytest.importorskip("arelle")
    report = sample_report("esrs_e1")
    doc = tmp_path / "esrs_e1_2025.xhtml"
    doc.write_bytes(render(report, "ixbrl", "en"))
    kinds = {"PercentageOfRenewableSourcesInTotalEnergyConsumption": "pureItemType",
             "DisclosureOfTransitionPlanForClimateChangeMitigationExplanatory": "stringItemType"}
    names = [line.point.xbrl.split(":")[1] for line in report.lines if line.point.xbrl]
    full = _stub_package(tmp_path / "full.zip", report.framework,
                         {n: kinds.get(n, "decimalItemType") for n in names})
    result = check_ixbrl(doc, packages=[full])
    assert result.problems == [] and result.taxonomy == []
    # With the taxonomy loaded, an element it does not define is a problem of the document.
    short = _stub_package(tmp_path / "short.zip", report.framework,
                          {n: kinds.get(n, "decimalItemType") for n in names if "Scope1" not in n})
    result = check_ixbrl(doc, packages=[short])
    assert result.taxonomy == [] and any("GrossScope1GreenhouseGasEmissions" in p for p in result.problems)
