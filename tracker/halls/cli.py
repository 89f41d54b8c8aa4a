"""``tracker add-station`` / ``tracker station-token``: monitor stations and their tokens."""

from __future__ import annotations

import click
from sqlalchemy import select

from tracker.cli_support import with_app


@click.command("add-station")
@click.argument("name")
@click.option(
    "--region", "region_ref", default=None, help="Region name, code or id (default: the top node)."
)
@with_app
def add_station_cmd(name: str, region_ref: str | None) -> None:
    """Create a monitor station; its token is printed once and stored as SHA-256."""
    from tracker.cli_support import find_region
    from tracker.extensions import db
    from tracker.halls.services import create_station
    from tracker.models import Region

    region = (
        find_region(region_ref)
        if region_ref
        else db.session.scalar(select(Region).where(Region.parent_id.is_(None)).order_by(Region.id))
    )
    if region is None:
        raise click.ClickException("还没有任何单位，请先导入区划 / no regions yet")
    station, token = create_station(name, region)
    db.session.commit()
    click.echo(
        f"已创建监控站 {station.name}（#{station.id}，{region.name}）。令牌只显示这一次：", err=True
    )
    click.echo(token)


@click.command("station-token")
@click.argument("name")
@with_app
def station_token_cmd(name: str) -> None:
    """Issue a new token for a station (the old one stops working); printed once."""
    from tracker.extensions import db
    from tracker.halls.models import Station
    from tracker.halls.services import rotate_station_token

    station = db.session.scalar(select(Station).where(Station.name == name))
    if station is None:
        raise click.ClickException(f"没有监控站 {name!r}")
    token = rotate_station_token(station)
    db.session.commit()
    click.echo(token)


def commands() -> list[click.Command]:
    return [add_station_cmd, station_token_cmd]
