"""What the alerting machinery reports about itself (the app counts it for /metrics)."""

from typing import Protocol


class AlertObserver(Protocol):
    def alert_opened(self, kind: str) -> None: ...

    def delivery_attempted(self, channel: str, outcome: str) -> None:
        """`outcome`: sent, retry (will be tried again) or failed (given up)."""

    def deadline_lag(self, seconds: float) -> None:
        """How late after its due time a planned pass ran."""
