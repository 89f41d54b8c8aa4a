"""``tracker verify-ledger``: recompute the meeting ledgers' hash chains."""

from __future__ import annotations

import click

from tracker.cli_support import with_app
from tracker.models.regions import in_subtree


@click.command("verify-ledger")
@click.option(
    "--region",
    "region_ref",
    default=None,
    help="Only branches under this region (name, code or id).",
)
@with_app
def verify_ledger_cmd(region_ref: str | None) -> None:
    """Recompute every branch's version chain and compare each record with its last version.

    Exit status 1 and a list of findings when anything was changed outside the
    tracker (raw SQL, a restored backup mixed with another …).
    """
    from sqlalchemy import select

    from tracker.cli_support import find_region
    from tracker.extensions import db
    from tracker.meetings.services import verify_ledger
    from tracker.models import Branch, Region

    branch_ids = None
    if region_ref:
        region = find_region(region_ref)
        branch_ids = db.session.scalars(
            select(Branch.id)
            .join(Region, Region.id == Branch.region_id)
            .where(in_subtree(region.path))
        ).all()
    checked, problems = verify_ledger(branch_ids)
    if not problems:
        click.echo(
            f"台账完整：已核验 {checked} 个版本，哈希链与记录一致。/ ledger OK ({checked} versions)"
        )
        return
    names = {r[0]: r[1] for r in db.session.execute(select(Branch.id, Branch.name))}
    click.echo(
        f"发现 {len(problems)} 处问题（已核验 {checked} 个版本）：/ {len(problems)} problem(s):",
        err=True,
    )
    for p in problems:
        where = names.get(p.branch_id, f"支部 {p.branch_id}")
        rec = f" 记录 #{p.meeting_id}" if p.meeting_id else ""
        seq = f" 第 {p.seq} 条版本" if p.seq else ""
        click.echo(f"  {where}{rec}{seq}：{p.message}", err=True)
    raise SystemExit(1)


def commands() -> list[click.Command]:
    return [verify_ledger_cmd]
