"""``tracker outbox``: what the notification sender has queued, sent and given up on."""

from __future__ import annotations

import click

from tracker.cli_support import with_app


@click.command("outbox")
@click.option("--retry-failed", is_flag=True, help="Queue the given-up messages again (now).")
@click.option("--send", "send_now", is_flag=True, help="Send what is due now (what the job does).")
@with_app
def outbox_cmd(retry_failed: bool, send_now: bool) -> None:
    """Counts per channel and state, and the latest errors of the notification outbox."""
    from sqlalchemy import func, select, update

    from tracker.extensions import db
    from tracker.models import utcnow
    from tracker.notifications.delivery import deliver_due
    from tracker.notifications.models import OutboxMessage, OutStatus

    if retry_failed:
        result = db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == OutStatus.failed)
            .values(status=OutStatus.pending, attempts=0, next_attempt_at=utcnow())
        )
        db.session.commit()
        click.echo(f"已重新排队 {getattr(result, 'rowcount', 0) or 0} 条")
    if send_now:
        sent, failed = deliver_due()
        db.session.commit()
        click.echo(f"本次发送：成功 {sent} 条，失败 {failed} 条（失败的将退避重试）")
    rows = db.session.execute(
        select(OutboxMessage.channel, OutboxMessage.status, func.count(OutboxMessage.id))
        .group_by(OutboxMessage.channel, OutboxMessage.status)
        .order_by(OutboxMessage.channel, OutboxMessage.status)
    ).all()
    if not rows:
        click.echo("外发队列为空")
        return
    labels = {OutStatus.pending: "待发送", OutStatus.sent: "已发送", OutStatus.failed: "已放弃"}
    for channel, status, n in rows:
        click.echo(f"{channel.value:<9} {labels[status]} {n}")
    errors = db.session.execute(
        select(OutboxMessage.channel, OutboxMessage.last_error, OutboxMessage.attempts)
        .where(OutboxMessage.last_error.is_not(None), OutboxMessage.status != OutStatus.sent)
        .order_by(OutboxMessage.id.desc())
        .limit(5)
    ).all()
    for channel, error, attempts in errors:
        click.echo(f"最近错误：{channel.value} 第 {attempts} 次：{error}")


def commands() -> list[click.Command]:
    return [outbox_cmd]
