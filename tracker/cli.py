"""``tracker``: the one command-line entry point.

Every subcommand builds its own app with :func:`tracker.create_app`, runs in
its app context, commits once at the end, prints a clear message and exits
non-zero on failure (1 = the operation failed, 2 = bad usage).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import click
from flask import Flask
from sqlalchemy import select

from tracker import clock
from tracker.cli_support import find_region, make_app, with_app
from tracker.config import ROOT


class TrackerGroup(click.Group):
    """Subcommands of every domain package are added lazily, on first use."""

    def _load(self) -> None:
        if getattr(self, "_loaded", False):
            return
        self._loaded = True
        from tracker.domain import loaded

        for commands in loaded("commands"):
            for command in commands():
                self.add_command(command)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._load()
        return super().get_command(ctx, cmd_name)


@click.group(cls=TrackerGroup)
@click.version_option(package_name="village-tracker")
def cli() -> None:
    """村级党建台账 — village Party-building compliance tracker."""


@cli.group()
def db() -> None:
    """Database schema: migrations and checks."""


@db.command("upgrade")
@with_app
def db_upgrade() -> None:
    """Apply every migration to the configured database."""
    from flask import current_app

    from tracker.database import upgrade

    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    upgrade(url)
    click.echo("数据库已是最新结构 / database is up to date")


@db.command("check")
@with_app
def db_check() -> None:
    """Fail if the models and the migrated database differ (drift)."""
    from tracker.database import drift
    from tracker.extensions import db as sqla

    diffs = drift(sqla.engine)
    if diffs:
        for d in diffs:
            click.echo(f"  {d}")
        raise click.ClickException(f"{len(diffs)} difference(s) between models and migrations")
    click.echo("models and migrations agree")


@db.command("revision")
@click.option("-m", "--message", required=True, help="What the revision changes.")
@click.option("--head", default="heads", help="Revision to build on (a branch head).")
@click.option("--rev-id", default=None, help="Explicit revision id.")
@click.option("--splice", is_flag=True, help="Start a new branch from a non-head --head.")
@with_app
def db_revision(message: str, head: str, rev_id: str | None, splice: bool) -> None:
    """Autogenerate a migration from the models (for developers)."""
    from alembic import command
    from flask import current_app

    from tracker.database import alembic_config

    cfg = alembic_config(current_app.config["SQLALCHEMY_DATABASE_URI"])
    command.revision(
        cfg, message=message, autogenerate=True, head=head, rev_id=rev_id, splice=splice
    )


@cli.command("create-user")
@click.argument("username")
@click.option(
    "--role", type=click.Choice(["admin", "editor", "viewer"]), required=True, help="Role."
)
@click.option("--region", "region_ref", required=True, help="Region name, code or id.")
@click.option("--name", "display_name", default=None, help="Display name.")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Password (prompted when omitted).",
)
@with_app
def create_user_cmd(
    username: str, role: str, region_ref: str, display_name: str | None, password: str
) -> None:
    """Create a user bound to one region node."""
    from tracker.extensions import db as sqla
    from tracker.models import Role
    from tracker.org.services import create_user

    region = find_region(region_ref)
    user = create_user(username, password, Role(role), region, display_name)
    sqla.session.commit()
    click.echo(f"已创建用户 {user.username}（{role}，{region.name}）")


@cli.command("create-token")
@click.argument("username")
@click.option("--name", default="cli", help="What the token is for.")
@with_app
def create_token_cmd(username: str, name: str) -> None:
    """Create a personal API token; it is printed once and stored hashed."""
    from tracker.auth.services import create_api_token
    from tracker.extensions import db as sqla
    from tracker.models import User

    user = sqla.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"没有用户 {username!r}")
    _, plain = create_api_token(user, name)
    sqla.session.commit()
    click.echo(plain)


def _seed_if_empty(force: bool = False) -> bool:
    from tracker.demo import database_is_empty, seed_demo
    from tracker.extensions import db as sqla

    if not force and not database_is_empty():
        return False
    if not database_is_empty():
        raise click.ClickException("数据库不为空，拒绝写入演示数据 / database is not empty")
    click.echo("写入演示数据… / seeding demo data…")
    started = time.monotonic()
    seed_demo(clock.today())
    sqla.session.commit()
    click.echo(f"演示数据已写入（{time.monotonic() - started:.1f} 秒）")
    return True


@cli.command("seed-demo")
@with_app
def seed_demo_cmd() -> None:
    """Fill an empty database with the demo city (refuses a non-empty one)."""
    _seed_if_empty(force=True)
    _print_logins()


def _print_logins() -> None:
    from tracker.demo import DEMO_LOGINS, DEMO_PASSWORD

    click.echo("")
    click.echo(f"演示账号（密码均为 {DEMO_PASSWORD}）/ demo logins:")
    for username, what in DEMO_LOGINS:
        click.echo(f"  {username:<10} {what}")


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=0, type=int, help="gunicorn workers (0 = Flask dev server).")
def serve_cmd(host: str, port: int, workers: int) -> None:
    """Run the web app (gunicorn with --workers N, else the Flask server).

    Refuses to start on a missing or demo ``secret_key``/``camera_key``.
    """
    app = make_app(serving=True)
    if workers > 0:
        os.execvp(
            sys.executable,
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-w",
                str(workers),
                "-b",
                f"{host}:{port}",
                "tracker.wsgi:app",
            ],
        )
    app.run(host=host, port=port, debug=False, use_reloader=False)


@cli.command("generate-secrets")
def generate_secrets_cmd() -> None:
    """Print a new secret_key and camera_key as environment lines (keep them safe)."""
    import secrets as pysecrets

    from cryptography.fernet import Fernet

    click.echo(f"TRACKER_SECRET_KEY={pysecrets.token_urlsafe(48)}")
    click.echo(f"TRACKER_CAMERA_KEY={Fernet.generate_key().decode()}")


@cli.command("jobs")
@click.option("--once", is_flag=True, help="Run every job once now and exit.")
@click.option("--list", "list_only", is_flag=True, help="List the registered jobs and exit.")
def jobs_cmd(once: bool, list_only: bool) -> None:
    """Run the scheduled jobs (roll-ups, reminders, escalation, alerts)."""
    import logging

    from tracker.jobs import load_jobs, run_job, run_scheduler

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app = make_app(serving=True)
    jobs = load_jobs()
    if list_only:
        for job in jobs.values():
            click.echo(f"{job.id:<28} {job.trigger} {job.trigger_args}  {job.description.strip()}")
        return
    if once:
        failed = [job.id for job in jobs.values() if not run_job(app, job)]
        if failed:
            raise click.ClickException(f"failed: {', '.join(failed)}")
        return
    run_scheduler(app)


@cli.command("demo")
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-monitor", is_flag=True, help="Do not start the camera simulator and monitor.")
def demo_cmd(port: int, no_monitor: bool) -> None:
    """What ``make run`` does: migrate, seed if empty, start everything."""
    from tracker.database import upgrade

    # The demo (and the jobs it starts) may run on the public demo keys.
    os.environ["TRACKER_DEMO"] = "1"
    app = make_app()
    with app.app_context():
        from tracker.audit import set_actor

        set_actor(None, "cli")
        upgrade(app.config["SQLALCHEMY_DATABASE_URI"])
        click.echo("数据库结构已更新 / migrations applied")
        _seed_if_empty()
        extra = _demo_companions(app, port, no_monitor)
    children: list[subprocess.Popen[bytes]] = []
    for name, argv, env in extra:
        click.echo(f"启动 {name}: {' '.join(argv[1:3])} …")
        children.append(subprocess.Popen(argv, env={**os.environ, **env}, cwd=ROOT))

    def _stop(*_: Any) -> None:
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()

    def _on_term(*_: Any) -> None:
        _stop()
        sys.exit(0)

    signal.signal(signal.SIGTERM, _on_term)
    _print_logins()
    click.echo(f"\n打开 http://127.0.0.1:{port}/ 登录 / open http://127.0.0.1:{port}/\n")
    try:
        app.run(host="127.0.0.1", port=port, debug=False, use_reloader=False)
    finally:
        _stop()


def _demo_companions(
    app: Flask, port: int, no_monitor: bool
) -> list[tuple[str, list[str], dict[str, str]]]:
    """Processes ``make run`` starts beside the web app: the jobs, then each domain's
    ``companions`` (the camera simulator and the monitor)."""
    from tracker.domain import loaded

    out: list[tuple[str, list[str], dict[str, str]]] = [
        ("jobs", [sys.executable, "-m", "tracker.cli", "jobs"], {})
    ]
    for provider in loaded("companions"):
        out.extend(provider(app, port, no_monitor))
    return out


def main() -> None:
    """Console-script entry point."""
    os.umask(0o077)  # database files, uploads, locks: owner only (0600 / 0700)
    Path(ROOT / "instance").mkdir(mode=0o700, exist_ok=True)
    cli(prog_name="tracker")


if __name__ == "__main__":
    main()
