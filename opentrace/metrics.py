"""OpenTrace's own health for Prometheus, at `GET /metrics`.

Each app owns its registry (no process-global state), so several apps in one test process
never share counts."""

from prometheus_client import CollectorRegistry, Counter, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.events = Counter(
            "opentrace_events_ingested", "Events committed, by kind and path",
            ["kind", "path"], registry=self.registry)
        self.duplicates = Counter(
            "opentrace_events_duplicate", "Events acknowledged as duplicates of stored ones",
            registry=self.registry)
        self.latency = Histogram(
            "opentrace_ingest_seconds", "Time from request to committed answer",
            ["path"], registry=self.registry,
            buckets=(0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
        self.batch_size = Histogram(
            "opentrace_ingest_batch_events", "Events per accepted request",
            registry=self.registry, buckets=(1, 2, 5, 10, 50, 100, 250, 500, 1000))
        self.rejected_requests = Counter(
            "opentrace_requests_rejected", "Requests answered with an error, by status",
            ["status"], registry=self.registry)
        self.database_errors = Counter(
            "opentrace_database_errors", "Requests that failed because the database did",
            registry=self.registry)
        self.alerts = Counter(
            "opentrace_alerts_opened", "Alerts raised, by kind", ["kind"], registry=self.registry)
        self.deliveries = Counter(
            "opentrace_alert_deliveries", "Attempts to deliver alerts, by channel and outcome "
            "(sent, retry, failed)", ["channel", "outcome"], registry=self.registry)
        self.scheduler_lag = Histogram(
            "opentrace_scheduler_lag_seconds", "How late a deadline pass ran after its due time",
            registry=self.registry, buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))

        # The labelled series ingest counts into, looked up once each (`labels` takes a lock
        # and builds a key on every call).
        self._events_of: dict[tuple[str, str], Counter] = {}
        self._latency_of: dict[str, Histogram] = {}

    # Ingest reports through these (ingest.context.IngestObserver).
    def ingested(self, path: str, kinds: dict[str, int], duplicates: int, seconds: float) -> None:
        for kind, count in kinds.items():
            series = self._events_of.get((kind, path))
            if series is None:
                series = self._events_of[(kind, path)] = self.events.labels(kind, path)
            series.inc(count)
        if duplicates:
            self.duplicates.inc(duplicates)
        self.batch_size.observe(sum(kinds.values()))
        latency = self._latency_of.get(path)
        if latency is None:
            latency = self._latency_of[path] = self.latency.labels(path)
        latency.observe(seconds)

    def rejected(self, status: int) -> None:
        self.rejected_requests.labels(str(status)).inc()
        if status == 503:
            self.database_errors.inc()

    # The alerting machinery reports through these (alerts.observer.AlertObserver).
    def alert_opened(self, kind: str) -> None:
        self.alerts.labels(kind).inc()

    def delivery_attempted(self, channel: str, outcome: str) -> None:
        self.deliveries.labels(channel, outcome).inc()

    def deadline_lag(self, seconds: float) -> None:
        self.scheduler_lag.observe(seconds)
