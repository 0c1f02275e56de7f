"""The Teams bot: plain-Python question answering over stored telemetry, behind a thin
botbuilder seam. `bot` reads through `storage` and never imports `ingest`."""
