"""通知 in-app inbox, shared by every package (overdue matters, camera alerts, calendar warnings).

Call :func:`tracker.notifications.services.notify`; the jobs process delivers
to email / webhooks when ``[alerts]`` configures them.
"""
