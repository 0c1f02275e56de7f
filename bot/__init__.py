"""The Teams bot: plain-Python question answering over stored telemetry (`engine.py` reads a
question, `handlers.py` answers it, `cards.py` draws it), behind a thin botbuilder seam
(`endpoint.py`, `teams.py`), and the Teams side of alerts (`teams_sender.py`,
`alert_messages.py`). It reads through `storage` and uses `alerts`; it never imports `ingest`."""
