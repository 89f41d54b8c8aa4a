"""通知: the one notification pipeline, shared by every package (matters, camera alerts, calendar).

Call :func:`tracker.notifications.services.publish` with a
:class:`~tracker.notifications.services.Message`: inbox rows now, e-mail /
webhook / DingTalk / WeCom copies queued in the outbox, sent by the jobs
process (:mod:`tracker.notifications.delivery`).
"""
