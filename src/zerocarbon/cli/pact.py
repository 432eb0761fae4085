"""`zerocarbon pact ...`: product carbon footprints in PACT (Pathfinder) v2 JSON, in and out."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from zerocarbon.cli.common import ActorOpt, DbOpt, JsonOpt, OrgOpt, YearOpt, console, emit_json, group

app = group("Product carbon footprints in PACT (Pathfinder) v2 JSON: validate, import, list, show, export.")


def _row(i) -> dict:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in i.__dict__.items()}


@app.command("validate")
def validate(file: Annotated[Path, typer.Argument(help="JSON file: one footprint, a list, or {\"data\": [...]}")],
             as_json: JsonOpt = False) -> None:
    """Check a file against the PACT v2 schema and the specification's rules; every problem names the footprint
    and the JSON path. Nothing is stored."""
    from zerocarbon.services import footprints

    found = footprints.validate_file(file)
    if as_json:
        emit_json([{"id": f.pf_id, "version": f.version, "specVersion": f.spec_version} for f in found])
        return
    for f in found:
        console.print(f"[green]valid:[/] {f.pf_id} v{f.version} ({f.spec_version}) {f.company_name} / "
                      f"{f.product_name}: {f.pcf_excl:g} kgCO2e per {f.declared_unit}")


@app.command("import")
def import_(file: Annotated[Path, typer.Argument(help="PACT JSON file")], org: OrgOpt, db: DbOpt = None,
            supplier: Annotated[Optional[str], typer.Option("--supplier", help="supplier code the footprints "
                                                                                 "belong to")] = None,
            actor: ActorOpt = None, as_json: JsonOpt = False) -> None:
    """Import every footprint of a file, or none: a stored id needs a higher version, which supersedes the stored
    one (kept as history)."""
    from zerocarbon.cli.common import actor as who, open_db
    from zerocarbon.services import footprints

    rep = footprints.import_file(open_db(db), org, file, actor=who(actor), supplier_code=supplier)
    if as_json:
        emit_json({"stored": [_row(i) for i in rep.stored], "superseded": rep.superseded})
        return
    for i in rep.stored:
        console.print(f"[green]stored:[/] {i.pf_id} v{i.version} {i.company_name} / {i.product_name}")
    for pf, v in rep.superseded:
        console.print(f"superseded: {pf} v{v}")


@app.command("list")
def list_(org: OrgOpt, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """The current version of every stored footprint."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import footprints

    rows = footprints.list_footprints(open_db(db), org)
    if as_json:
        emit_json([_row(i) for i in rows])
        return
    table = Table(title=f"product footprints of {org}")
    for c in ("id", "v", "company", "product", "kgCO2e / unit", "unit", "period", "primary %", "DQR", "supplier",
              "status"):
        table.add_column(c, overflow="fold")
    for i in rows:
        table.add_row(i.pf_id, str(i.version), i.company_name, i.product_name, f"{i.pcf_kg_per_unit:g}",
                      i.declared_unit, f"{i.period_start:%Y-%m-%d}..{i.period_end:%Y-%m-%d}",
                      "" if i.primary_data_share is None else f"{i.primary_data_share:g}",
                      "" if i.dqr is None else f"{i.dqr:.2f}", i.supplier_code or "", i.status)
    console.print(table)


@app.command("show")
def show(pf_id: Annotated[str, typer.Argument(help="footprint id (UUID)")], org: OrgOpt, db: DbOpt = None,
         version: Annotated[Optional[int], typer.Option("--version", help="a stored older version")] = None) -> None:
    """The footprint's PACT JSON as it was received."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import footprints

    print(json.dumps(footprints.show(open_db(db), org, pf_id, version=version), indent=2, ensure_ascii=False))


@app.command("export")
def export(org: OrgOpt, year: YearOpt,
           site: Annotated[str, typer.Option("--site", help="site code")],
           product: Annotated[str, typer.Option("--product", help="our product code or name")],
           units: Annotated[float, typer.Option("--units", help="declared units of the product produced in the year")],
           cpc: Annotated[str, typer.Option("--cpc", help="UN CPC code of the product (productCategoryCpc)")],
           out: Annotated[Path, typer.Option("--out", help="JSON file to write")],
           declared_unit: Annotated[str, typer.Option(
               "--declared-unit", help="PACT declared unit that --units count and the footprint is per (kilogram, "
                                       "liter, cubic meter, kilowatt hour, megajoule, ton kilometer, square meter)")],
           db: DbOpt = None,
           site_units: Annotated[Optional[float], typer.Option(
               "--site-units", help="declared units of all products of the site (default: --units)")] = None,
           product_id: Annotated[Optional[list[str]], typer.Option("--product-id", help="product URN (repeatable)")] = None,
           company_id: Annotated[Optional[list[str]], typer.Option("--company-id", help="company URN (repeatable)")] = None,
           dqr: Annotated[Optional[str], typer.Option(
               "--dqr", help="coverage%,technological,temporal,geographical,completeness,reliability (DQRs 1..3); "
                             "required for years from 2025")] = None) -> None:
    """Write a PACT v2.3 footprint of a product: the site's stored Scope 1 + Scope 2 market-based + Scope 3
    categories 1 and 4 of the year, allocated by units produced (docs/pact.md)."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.errors import InputError, Problem
    from zerocarbon.services import footprints

    dqi = None
    if dqr:
        try:
            parts = [float(x) for x in dqr.split(",")]
        except ValueError:
            parts = []
        if len(parts) != 6:
            raise InputError([Problem("--dqr", None, None, "give six numbers: coverage,technological,temporal,"
                                                           "geographical,completeness,reliability")])
        dqi = dict(zip(("coveragePercent", "technologicalDQR", "temporalDQR", "geographicalDQR", "completenessDQR",
                        "reliabilityDQR"), parts))
    try:
        doc = footprints.export_product(open_db(db), org, site=site, year=year, product=product, units=units,
                                        cpc=cpc, declared_unit=declared_unit, site_units=site_units,
                                        product_ids=product_id or None, company_ids=company_id or None, dqi=dqi)
    except InputError as exc:
        # The service names its arguments; here they are options of this command.
        option = {"dqi": "--dqr", "declared_unit": "--declared-unit"}
        raise InputError([Problem(option[p.column], None, None, p.reason) if p.column in option and not p.source
                          else p for p in exc.problems]) from None
    out.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    console.print(f"[green]written:[/] {out}: {doc['pcf']['pCfExcludingBiogenic']} kgCO2e per {declared_unit} "
                  f"(the declared unit; {product}: {units:g} {declared_unit} of {site_units or units:g} at site "
                  f"{site}), primary data {doc['pcf']['primaryDataShare']}%", highlight=False)
