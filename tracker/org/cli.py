"""``tracker`` subcommands of the organisation package: ``import-members``."""

from __future__ import annotations

from pathlib import Path

import click

from tracker.cli_support import with_app


@click.command("import-members")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--village", "village_ref", required=True, help="Village name, 12-digit code or id.")
@click.option("--dry-run", is_flag=True, help="Check the sheet and show what would be added.")
@with_app
def import_members_cmd(file: Path, village_ref: str, dry_run: bool) -> None:
    """Import a member roster (.xlsx: 序号 姓名 性别 出生年份 党员类别 所在党小组 入党日期 联系电话 备注).

    Every row is checked first; any error stops the import and nothing is
    saved. Importing the same file twice into a village is refused.
    """
    from tracker.cli_support import find_region
    from tracker.extensions import db
    from tracker.models import RegionLevel
    from tracker.org import excel
    from tracker.org.services import branch_of

    try:
        village = find_region(village_ref)
    except click.BadParameter as exc:
        raise click.BadParameter(exc.message, param_hint="--village") from exc
    if village.level != RegionLevel.village:
        raise click.BadParameter(f"{village.name} 不是村（社区）", param_hint="--village")
    branch = branch_of(village.id)
    if branch is None:
        raise click.ClickException(f"{village.name} 尚未建立党支部")
    data = file.read_bytes()
    previous = excel.already_imported(branch, excel.sha256_of(data))
    if previous is not None:
        raise click.ClickException(
            f"{file.name} 已于 {previous.created_at:%Y-%m-%d %H:%M}（UTC）导入 {village.name}，未重复导入"
        )
    sheet = excel.read_roster(data, file.name, branch)
    for err in sheet.errors:
        click.echo(f"  第 {err.row} 行 [{err.column}] {err.message}", err=True)
    if sheet.errors:
        raise click.ClickException(f"{len(sheet.errors)} 处错误，未导入任何数据")
    click.echo(f"{file.name}: {len(sheet.rows)} 名党员 → {village.name}（{branch.name}）")
    if sheet.new_groups:
        click.echo(f"将新建党小组：{'、'.join(sheet.new_groups)}")
    if dry_run:
        click.echo("试运行（--dry-run）：未写入数据库")
        return
    members = excel.commit_roster(sheet, branch, None)
    db.session.commit()
    click.echo(f"已导入 {len(members)} 名党员")


def commands() -> list[click.Command]:
    """The organisation's subcommands, named in the package's ``DOMAIN``."""
    return [import_members_cmd]
