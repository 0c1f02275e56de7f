"""The job-side client stays light: `import opentrace` in a job loads nothing of the server."""

import json
import subprocess
import sys

SERVER_SIDE = ("storage", "alerts", "bot", "aiohttp", "sqlalchemy", "sqlmodel", "pydantic", "botbuilder")


def test_importing_the_client_loads_nothing_of_the_server() -> None:
    script = ("import json, sys, opentrace; "
              "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    loaded = set(json.loads(subprocess.run([sys.executable, "-c", script], check=True,
                                           capture_output=True, text=True, timeout=60).stdout))
    assert "ingest" in loaded  # the client itself
    assert loaded.isdisjoint(SERVER_SIDE), sorted(loaded & set(SERVER_SIDE))
