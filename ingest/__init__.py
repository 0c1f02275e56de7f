"""Telemetry in: the HTTP contract v1, its validation, and the clients that speak it."""
