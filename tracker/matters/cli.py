"""``tracker`` subcommands of the service ledger."""

from __future__ import annotations

from pathlib import Path

import click

from tracker import clock
from tracker.cli_support import with_app


@click.command("matters-remind")
@with_app
def remind_cmd() -> None:
    """Send the due-soon / overdue / call-back reminders now (what the job does)."""
    from tracker.calendar_service import load_calendar
    from tracker.extensions import db
    from tracker.matters.jobs import send_reminders

    n = send_reminders(clock.today(), load_calendar())
    db.session.commit()
    click.echo(f"已发送 {n} 条提醒")


@click.command("matters-import-catalog")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--region", "region_ref", required=True, help="County (or city) name, code or id.")
@with_app
def import_catalog_cmd(path: Path, region_ref: str) -> None:
    """Import a county's 事项清单 from an .xlsx file (all rows or none)."""
    from tracker.cli_support import find_region
    from tracker.extensions import db
    from tracker.matters.services import import_catalog, parse_catalog_workbook

    region = find_region(region_ref)
    rows = parse_catalog_workbook(path.read_bytes(), region)
    for r in rows:
        for e in r.errors:
            click.echo(f"第 {r.line} 行：{e}", err=True)
    added, updated = import_catalog(region, rows)
    db.session.commit()
    click.echo(f"已导入 {region.name} 事项清单：新增 {added} 项，更新 {updated} 项")


@click.command("matters-calendar-status")
@with_app
def calendar_status_cmd() -> None:
    """Show which years have an official working-day calendar."""
    from tracker.calendar_service import load_calendar
    from tracker.workdays import package_covers

    cal = load_calendar()
    this = clock.today().year
    for year in range(this - 1, this + 3):
        if package_covers(year):
            state = "official (chinesecalendar)"
        elif cal.year_is_official(year):
            state = "official (admin overrides)"
        else:
            state = "MISSING: Mon–Fri fallback, due dates flagged unofficial"
        click.echo(f"{year}: {state}")


def commands() -> list[click.Command]:
    return [remind_cmd, import_catalog_cmd, calendar_status_cmd]
