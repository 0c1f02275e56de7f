"""Config as code: `opentrace jobs apply FILE.yaml` defines jobs, idempotently, all or nothing."""

import os
import subprocess
from pathlib import Path

from tests.serving import opentrace_command

GOOD = """
nightly-product-import:
  title: Nightly product import
  aliases: [the import]
  timezone: Europe/Berlin
  schedule: "10 0 * * *"
  expect:
    start_within: 30m
    milestones: [{name: report-published, by: 5h50m}]
    metrics: {rows_skipped: {usual: true}}
customer-export:
  schedule: "0 5 * * *"
"""


def apply(path: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENTRACE_DATABASE_URL": f"sqlite:///{tmp_path / 'ot.db'}"}
    return subprocess.run([*opentrace_command(), "jobs", "apply", str(path)], env=env,
                          capture_output=True, text=True, timeout=60, check=False)


def test_applying_a_file_twice_creates_then_changes_nothing(tmp_path: Path) -> None:
    jobs = tmp_path / "jobs.yaml"
    jobs.write_text(GOOD)

    first = apply(jobs, tmp_path)
    second = apply(jobs, tmp_path)

    assert first.returncode == 0, first.stderr
    assert first.stdout.split("\n")[:2] == ["created\tnightly-product-import",
                                            "created\tcustomer-export"]
    assert second.stdout.split("\n")[:2] == ["unchanged\tnightly-product-import",
                                             "unchanged\tcustomer-export"]


def test_a_bad_definition_names_the_field_and_changes_nothing(tmp_path: Path) -> None:
    jobs = tmp_path / "jobs.yaml"
    jobs.write_text(GOOD)
    apply(jobs, tmp_path)
    jobs.write_text(GOOD.replace("title: Nightly product import", "title: Renamed")
                    .replace('"0 5 * * *"', '"0 25 * * *"'))

    result = apply(jobs, tmp_path)
    again = apply(tmp_path / "jobs.yaml", tmp_path)

    assert result.returncode == 2
    assert "customer-export.schedule" in result.stderr and "nothing was changed" in result.stderr
    assert again.returncode == 2  # still refused; and the first job kept its old title:
    jobs.write_text(GOOD)
    assert "unchanged\tnightly-product-import" in apply(jobs, tmp_path).stdout


def test_unreadable_files_are_refused_clearly(tmp_path: Path) -> None:
    (tmp_path / "list.yaml").write_text("- just\n- a list\n")
    (tmp_path / "broken.yaml").write_text("job: [unclosed\n")

    for name in ("list.yaml", "broken.yaml", "missing.yaml"):
        result = apply(tmp_path / name, tmp_path)
        assert result.returncode == 2, name
        assert result.stderr.startswith("opentrace jobs apply:"), result.stderr
