"""``tracker add-station`` / ``station-token`` / ``rekey-cameras``: stations, tokens,
credentials; ``tracker contract-schema``: the station contract as JSON Schema."""

from __future__ import annotations

import sys
from pathlib import Path

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


@click.command("rekey-cameras")
@click.option(
    "--old-key",
    "old_keys",
    multiple=True,
    help="A Fernet key the stream credentials may be encrypted with (repeatable).",
)
@with_app
def rekey_cameras_cmd(old_keys: tuple[str, ...]) -> None:
    """Re-encrypt camera stream credentials with the configured camera_key.

    For a database from before ``camera_key`` was required: those credentials
    were encrypted with a key derived from ``secret_key`` (or the shipped dev
    secret). Set the new TRACKER_CAMERA_KEY, keep the old TRACKER_SECRET_KEY,
    run this once. Credentials already under the new key are left alone.
    """
    import base64
    import hashlib

    from cryptography.fernet import Fernet, InvalidToken, MultiFernet
    from flask import current_app

    from tracker.config import DEMO_CAMERA_KEY
    from tracker.extensions import db as sqla
    from tracker.halls.models import Camera

    def legacy(secret: str) -> bytes:
        return base64.urlsafe_b64encode(hashlib.sha256(b"camera-key:" + secret.encode()).digest())

    current = Fernet(current_app.config["CAMERA_KEY"].encode())
    candidates = [k.encode() for k in old_keys]
    candidates += [legacy(current_app.config["SECRET_KEY"]), DEMO_CAMERA_KEY.encode()]
    old = MultiFernet([Fernet(k) for k in candidates])
    moved = kept = failed = 0
    for cam in sqla.session.scalars(select(Camera).where(Camera.stream_url_encrypted != "")):
        token = cam.stream_url_encrypted.encode()
        try:
            current.decrypt(token)
            kept += 1
            continue
        except InvalidToken:
            pass
        try:
            cam.stream_url_encrypted = current.encrypt(old.decrypt(token)).decode()
            moved += 1
        except InvalidToken:
            failed += 1
            click.echo(
                f"  摄像头 {cam.id}：无法用已知的旧密钥解密（请用 --old-key 提供）", err=True
            )
    sqla.session.commit()
    click.echo(f"已重新加密 {moved} 个，已是新密钥 {kept} 个，失败 {failed} 个")
    if failed:
        raise SystemExit(1)


@click.command("contract-schema")
@click.option(
    "--output",
    "-o",
    default="docs/contract.schema.json",
    show_default=True,
    help="File to write ('-' = stdout).",
)
@click.option("--check", is_flag=True, help="Change nothing; exit 1 if the file is not current.")
def contract_schema_cmd(output: str, check: bool) -> None:
    """Write the station contract's JSON Schema (from the station API's models)."""
    from tracker.halls.station_api import contract_schema_text

    text = contract_schema_text()
    if output == "-":
        sys.stdout.write(text)
        return
    path = Path(output)
    current = path.read_text(encoding="utf-8") if path.exists() else None
    if check:
        if current != text:
            raise click.ClickException(
                f"{path} 与站点接口模型不一致，请运行 `tracker contract-schema` 重新生成 / "
                "is not current: run `tracker contract-schema`"
            )
        click.echo(f"{path} 已是最新 / is current")
        return
    path.write_text(text, encoding="utf-8")
    click.echo(f"已写入 {path} / written")


def commands() -> list[click.Command]:
    return [add_station_cmd, station_token_cmd, rekey_cameras_cmd, contract_schema_cmd]
