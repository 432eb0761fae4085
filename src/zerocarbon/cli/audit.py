"""`zerocarbon audit ...`: the hash-chained audit trail."""
from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.table import Table

from zerocarbon.cli.common import EXIT_CHECK_FAILED, DbOpt, JsonOpt, console, emit_json, group

app = group("The audit trail: who changed or computed what, when; verifiable.")


@app.command("log")
def audit_log(db: DbOpt = None, org: Annotated[Optional[str], typer.Option("--org", help="only this organisation")] = None,
              limit: Annotated[int, typer.Option(help="latest entries to show", min=1)] = 50,
              as_json: JsonOpt = False) -> None:
    """The latest entries of the audit trail."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import audit

    entries = audit.log(open_db(db), org, limit)
    if as_json:
        emit_json([e.__dict__ for e in entries])
        return
    table = Table(title="audit trail")
    for c in ("seq", "at (UTC)", "actor", "action", "entity", "detail"):
        table.add_column(c, overflow="fold")
    for e in entries:
        detail = ", ".join(f"{k}={v}" for k, v in e.detail.items())
        table.add_row(str(e.seq), f"{e.at:%Y-%m-%d %H:%M:%S}", e.actor, e.action, e.entity,
                      detail[:160] + ("…" if len(detail) > 160 else ""))
    console.print(table)


@app.command("head")
def audit_head(db: DbOpt = None) -> None:
    """Print SEQ:HASH of the last entry: keep it outside the database (a report, an e-mail) to detect later
    deletions from the end of the trail with `audit verify --head`."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import audit

    v = audit.verify(open_db(db))
    print(f"{v.head_seq}:{v.head_hash}" if v.head_seq else "0:" + "0" * 64)


@app.command("verify")
def audit_verify(db: DbOpt = None,
                 head: Annotated[Optional[str], typer.Option("--head", help="SEQ:HASH recorded earlier by `audit head`")] = None,
                 as_json: JsonOpt = False) -> None:
    """Check the chain: any edited, deleted or inserted entry is reported and the exit code is 3."""
    from zerocarbon.cli.common import open_db
    from zerocarbon.services import audit

    v = audit.verify(open_db(db), head)
    if as_json:
        emit_json({"intact": v.intact, "entries": v.entries, "head": f"{v.head_seq}:{v.head_hash}" if v.head_seq else None,
                   "findings": [str(f) for f in v.findings]})
    elif v.intact:
        console.print(f"[green]intact:[/] {v.entries} entries, head {v.head_seq}:{v.head_hash}")
    else:
        console.print(f"[bold red]broken:[/] {len(v.findings)} finding(s) in {v.entries} entries")
        for f in v.findings[:50]:
            console.print(f"  - {f}", highlight=False)
    if not v.intact:
        raise typer.Exit(EXIT_CHECK_FAILED)
