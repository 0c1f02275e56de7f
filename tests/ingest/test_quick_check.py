"""The quick check of incoming events agrees with the contract's models: on a valid event it
gives exactly what the models give (values, types, defaults, field order), and it never
accepts an event the models refuse — those go to the models, which name the problem."""

import json
import random
from typing import Any

import pytest
from pydantic import ValidationError

from ingest.events_api import checked
from ingest.schemas import EventBatch, quick_check

JOB = "nightly-product-import"
VALID: list[dict[str, Any]] = [
    {"job": JOB, "kind": "start"},
    {"job": JOB, "kind": "start", "run": "r1", "id": "s-1",
     "attributes": {"host": "etl-1", "n": 3, "x": None, "deep": {"a": [1, 2.5, None, "ü"]}}},
    {"job": JOB, "kind": "progress", "done": 3},
    {"job": JOB, "kind": "progress", "done": 0.5, "total": 10, "unit": "rows", "stage": "load"},
    {"job": JOB, "kind": "progress", "done": -0.0, "total": None, "unit": "", "stage": None},
    {"job": JOB, "kind": "metric", "name": "rows_skipped", "value": 8911, "unit": "rows"},
    {"job": JOB, "kind": "metric", "name": "n", "value": -1.5e300},
    {"job": JOB, "kind": "metric", "name": "n", "value": 2**62, "unit": None},
    {"job": JOB, "kind": "note", "text": ""},
    {"job": JOB, "kind": "note", "text": "Grüße, 日本 🚀", "level": "warning"},
    {"job": JOB, "kind": "payload", "name": "input-file", "data": {"path": "/data/products.csv"}},
    {"job": JOB, "kind": "payload", "name": "p", "data": [1, "two", {"three": 3}]},
    {"job": JOB, "kind": "payload", "name": "p", "data": "just text"},
    {"job": JOB, "kind": "payload", "name": "p", "data": 0},
    {"job": JOB, "kind": "duration", "name": "read", "seconds": 3.25},
    {"job": JOB, "kind": "milestone", "name": "file-read"},
    {"job": JOB, "kind": "milestone", "name": "m", "status": "skipped", "text": None},
    {"job": JOB, "kind": "milestone", "name": "m", "status": "failed", "text": "disk full"},
    {"job": JOB, "kind": "finish", "status": "partial", "text": "exited early"},
    {"job": JOB, "kind": "finish", "status": "succeeded", "run": None, "id": None, "at": None},
    {"job": "a.b_c-9", "kind": "metric", "name": "n" * 128, "value": 0, "run": "r" * 128,
     "id": "i" * 128, "at": "2026-11-25T06:00:00.123456789+01:00"},
    {"job": JOB, "kind": "metric", "name": "n", "value": 1, "at": "2026-11-25t06:00:00z"},
    {"job": JOB, "kind": "metric", "name": "n", "value": 1, "at": "2026-11-25 06:00:00-09:30"},
]
INVALID: list[Any] = [
    "not an event", [], None,
    {"kind": "metric", "name": "n", "value": 1},
    {"job": JOB, "name": "n", "value": 1},
    {"job": JOB, "kind": "metrics", "name": "n", "value": 1},
    {"job": JOB, "kind": ["metric"], "name": "n", "value": 1},
    {"job": JOB, "kind": "metric", "name": "n", "value": 1, "vaule": 3},
    {"job": JOB, "kind": "metric", "name": "n", "value": True},
    {"job": JOB, "kind": "metric", "name": "n", "value": "12"},
    {"job": JOB, "kind": "metric", "name": "n", "value": None},
    {"job": JOB, "kind": "metric", "name": "n", "value": 10**400},
    {"job": JOB, "kind": "metric", "name": "n", "value": float("inf")},
    {"job": JOB, "kind": "metric", "name": "n", "value": float("nan")},
    {"job": JOB, "kind": "metric", "name": "", "value": 1},
    {"job": JOB, "kind": "metric", "name": "n" * 129, "value": 1},
    {"job": JOB, "kind": "metric", "name": "nul\x00byte", "value": 1},
    {"job": JOB, "kind": "metric", "name": "lone \ud800", "value": 1},
    {"job": JOB, "kind": "metric", "name": "n", "value": 1, "unit": "u" * 33},
    {"job": "Nightly Import", "kind": "metric", "name": "n", "value": 1},
    {"job": "..", "kind": "metric", "name": "n", "value": 1},
    {"job": "x" * 129, "kind": "metric", "name": "n", "value": 1},
    {"job": 7, "kind": "metric", "name": "n", "value": 1},
    {"job": JOB, "kind": "metric", "name": "n", "value": 1, "run": ""},
    {"job": JOB, "kind": "metric", "name": "n", "value": 1, "run": 5},
    {"job": JOB, "kind": "metric", "name": "n", "value": 1, "id": "i" * 129},
    {"job": JOB, "kind": "metric", "name": "n", "value": 1, "at": "2026-11-25T06:00:00"},
    {"job": JOB, "kind": "metric", "name": "n", "value": 1, "at": "2026-02-30T06:00:00Z"},
    {"job": JOB, "kind": "metric", "name": "n", "value": 1, "at": 1764050400},
    {"job": JOB, "kind": "note", "text": "t" * 4001},
    {"job": JOB, "kind": "note", "text": "x", "level": "fatal"},
    {"job": JOB, "kind": "note", "text": "x", "level": None},
    {"job": JOB, "kind": "note"},
    {"job": JOB, "kind": "progress", "done": -1},
    {"job": JOB, "kind": "progress", "done": 1, "total": -1},
    {"job": JOB, "kind": "duration", "name": "d", "seconds": -0.5},
    {"job": JOB, "kind": "milestone", "name": "m", "status": "done"},
    {"job": JOB, "kind": "milestone", "name": "m", "status": None},
    {"job": JOB, "kind": "finish", "status": "ok"},
    {"job": JOB, "kind": "finish"},
    {"job": JOB, "kind": "start", "attributes": ["not", "an", "object"]},
    {"job": JOB, "kind": "start", "attributes": None},
    {"job": JOB, "kind": "start", "attributes": {"big": "x" * 17_000}},
    {"job": JOB, "kind": "start", "attributes": {"nul": "\x00"}},
    {"job": JOB, "kind": "payload", "name": "p", "data": "x" * 70_000},
    {"job": JOB, "kind": "payload", "name": "p", "data": json.loads("[" * 40 + "]" * 40)},
    {"job": JOB, "kind": "payload", "name": "p"},
]


def by_the_models(items: list[Any]) -> list[Any] | None:
    try:
        return [checked(event) for event in EventBatch.validate_python(items)]
    except ValidationError:
        return None


def assert_same(quick: list[Any], models: list[Any]) -> None:
    assert quick == models
    for fast, slow in zip(quick, models, strict=True):
        assert list(fast.data) == list(slow.data)  # the stored JSON keeps the models' order
        assert [type(v) for v in fast.data.values()] == [type(v) for v in slow.data.values()]


@pytest.mark.parametrize("event", VALID, ids=lambda e: e["kind"])
def test_a_valid_event_comes_out_as_the_models_give_it(event: dict[str, Any]) -> None:
    quick = quick_check([event])
    models = by_the_models([event])
    assert quick is not None and models is not None
    assert_same(quick, models)


def test_a_whole_valid_batch_is_checked_quickly() -> None:
    quick = quick_check(VALID)
    models = by_the_models(VALID)
    assert quick is not None and models is not None
    assert_same(quick, models)


@pytest.mark.parametrize("event", INVALID, ids=repr)
def test_an_invalid_event_is_left_to_the_models_which_refuse_it(event: Any) -> None:
    assert quick_check([event]) is None
    assert by_the_models([event]) is None
    assert quick_check([*VALID, event]) is None


BAD_VALUES: list[Any] = [
    None, "", "x" * 129, "x" * 4001, "Upper Case", "..", "\x00", "\ud800", "é", 0, -1, 1.5, -0.0,
    2**63, 10**400, float("inf"), True, False, [], {}, [1], {"a": 1}, "reached", "info", "failed",
    "2026-11-25T06:00:00Z", "2026-11-25T06:00:00",
]


def test_no_mutation_of_a_valid_event_is_accepted_unless_the_models_accept_it_alike() -> None:
    rng = random.Random(20261125)
    fields = sorted({name for event in VALID for name in event} | {"extra", "total", "level"})
    accepted = refused = 0
    for _ in range(4000):
        event = dict(rng.choice(VALID))
        for _ in range(rng.randint(1, 2)):
            name = rng.choice(fields)
            if rng.random() < 0.15:
                event.pop(name, None)
            else:
                event[name] = rng.choice(BAD_VALUES)
        quick, models = quick_check([event]), by_the_models([event])
        if quick is None:
            refused += 1
            continue
        assert models is not None, event
        assert_same(quick, models)
        accepted += 1
    assert accepted > 200 and refused > 200  # both sides of the check were exercised
