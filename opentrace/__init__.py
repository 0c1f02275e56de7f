"""OpenTrace: business telemetry for batch jobs.

`import opentrace` gives the job-side client (standard library only):

    with opentrace.run("nightly-product-import") as run:
        run.milestone("file-read")
        run.metric("rows_skipped", 40, unit="rows")
"""

from ingest.client import Client, Run, run

__all__ = ["Client", "Run", "run"]
