"""Durable storage for OpenTrace: tables, migrations, the event writer and every query.

The bottom layer: it imports none of `ingest`, `alerts`, `bot` or `opentrace`, and they reach
the database only through the `(…, *, session)` functions here."""
