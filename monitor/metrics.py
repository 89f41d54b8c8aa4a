"""Prometheus metrics of the station daemon (prometheus-client).

Served on ``127.0.0.1:<metrics_port>`` when the port is not 0. Labels carry
camera ids and verdicts, never stream URLs, so no credential can reach a
metrics scrape; hosts are passed through :func:`monitor.redact.redact` anyway.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from monitor.redact import redact


class Metrics:
    """All metrics of one daemon, on their own registry (tests may create several)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.checks = Counter(
            "monitor_checks_total", "Camera checks by verdict", ["verdict"], registry=self.registry
        )
        self.probe_seconds = Histogram(
            "monitor_probe_duration_seconds",
            "Wall-clock duration of one probe",
            buckets=(0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30),
            registry=self.registry,
        )
        self.blind = Counter(
            "monitor_blind_total",
            "Times the monitor could not vouch for its observations, by reason",
            ["reason"],
            registry=self.registry,
        )
        self.outbox_depth = Gauge(
            "monitor_outbox_depth", "Items waiting in the outbox", ["kind"], registry=self.registry
        )
        self.dead_letter = Gauge(
            "monitor_dead_letter",
            "Items the tracker refused, kept for `monitor requeue`",
            ["kind"],
            registry=self.registry,
        )
        self.delivered = Counter(
            "monitor_delivered_total",
            "Items acknowledged by the tracker",
            ["kind"],
            registry=self.registry,
        )
        self.last_delivery = Gauge(
            "monitor_last_delivery_timestamp_seconds",
            "Unix time of the last successful delivery to the tracker",
            registry=self.registry,
        )
        self.cameras = Gauge(
            "monitor_cameras", "Cameras assigned to this station", registry=self.registry
        )
        self.cameras_down = Gauge(
            "monitor_cameras_down", "Cameras confirmed down", ["cause"], registry=self.registry
        )
        self.workers_replaced = Counter(
            "monitor_probe_workers_replaced_total",
            "Probe worker processes killed past their hard bound (or crashed) and replaced",
            registry=self.registry,
        )
        self.host_waits = Counter(
            "monitor_host_limit_waits_total",
            "Checks that waited for the per-host concurrency limit",
            ["host"],
            registry=self.registry,
        )

        self.host_busy = Counter(
            "monitor_host_busy_total",
            "Checks a host refused as busy (453/454/503: out of sessions) — retried, no verdict",
            ["host"],
            registry=self.registry,
        )
        self.checks_missed = Counter(
            "monitor_checks_missed_total",
            "Checks that did not run on time (missed: the daemon was late; still_running: "
            "the camera's previous check had not finished)",
            ["reason"],
            registry=self.registry,
        )
        self.workers = Gauge(
            "monitor_probe_workers",
            "Probe worker processes the pool is sized to",
            registry=self.registry,
        )
        self.checks_needed = Gauge(
            "monitor_checks_needed_per_minute",
            "Checks per minute the cameras' intervals ask for",
            registry=self.registry,
        )
        self.checks_done = Gauge(
            "monitor_checks_done_per_minute",
            "Checks done in the last minute",
            registry=self.registry,
        )
        self.missed_per_min = Gauge(
            "monitor_checks_missed_per_minute",
            "Checks missed in the last minute (0 = the station keeps up)",
            registry=self.registry,
        )

    def host_label(self, host: str) -> str:
        """A safe host label."""
        return redact(host)

    def serve(self, port: int) -> None:
        """Expose the registry on 127.0.0.1:``port``."""
        start_http_server(port, addr="127.0.0.1", registry=self.registry)
