"""Durable storage for OpenTrace: tables, migrations, the event writer and read queries.

Storage imports neither `ingest` nor `bot`; both reach the database only through here.
"""
