"""What the watcher works out once per job for the histories of its runs reads as
`storage.job_state.PastRuns` reads each history on its own, and the facts it keeps are the
text `RunFacts.to_json` writes."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from alerts.watcher import HISTORY_RUNS, _facts_json, _History
from storage.job_state import PastRun, PastRuns, RunFacts

NAMES = ("file-received", "file-read", "rows-loaded", "validated", "report-published")
BASE = datetime(2026, 11, 1, tzinfo=UTC)


def past_runs(rng: random.Random, count: int, in_id_order: bool) -> list[PastRun]:
    ids = list(range(1, count + 1))
    if not in_id_order:
        rng.shuffle(ids)  # reported out of order: ids no longer follow the starts
    runs = []
    for index, run_id in enumerate(ids):
        started = BASE + timedelta(hours=index * 6, minutes=rng.randint(0, 59))
        reached = tuple(rng.sample(NAMES, rng.randint(0, len(NAMES))))
        metrics = {name: float(rng.randint(0, 99))
                   for name in rng.sample(["rows", "skipped"], rng.randint(0, 2))}
        facts = RunFacts(float(rng.randint(1, 900)), reached, metrics, rng.random() < 0.3)
        runs.append(PastRun(run_id, started, started + timedelta(minutes=rng.randint(5, 300)), facts))
    return runs


@pytest.mark.parametrize("in_id_order", [True, False])
@pytest.mark.parametrize("seed", range(8))
def test_every_runs_history_reads_as_past_runs_reads_it(seed: int, in_id_order: bool) -> None:
    rng = random.Random(seed)
    runs = past_runs(rng, rng.randint(0, 60), in_id_order)
    history = _History(runs)
    moments = [run.started_at for run in runs] + [BASE - timedelta(days=1), BASE + timedelta(days=30)]
    for moment in moments:
        window = history.before(moment)
        end = sum(1 for run in runs if run.started_at < moment)
        expected = PastRuns(runs[max(0, end - HISTORY_RUNS):end])
        assert list(window.runs) == list(expected.runs)
        assert window.durations == expected.durations
        assert window.longest_gaps == expected.longest_gaps
        assert window.metrics == expected.metrics
        assert list(window.milestones.items()) == list(expected.milestones.items())
        assert window.milestone_order == expected.milestone_order


def test_facts_are_kept_as_run_facts_write_them() -> None:
    rng = random.Random(5)
    odd = [0.0, 1e20, 2.5e-7, 123456.789, float("nan"), float("inf"), 7]
    names = ["rows", "m\u2603", 'say "hi"', "back\\slash", "tab\t"]
    for _ in range(500):
        facts = RunFacts(rng.choice(odd), tuple(rng.sample(names, rng.randint(0, 3))),
                         {name: rng.choice(odd) for name in rng.sample(names, rng.randint(0, 3))},
                         rng.random() < 0.5)
        assert _facts_json(facts) == facts.to_json()
