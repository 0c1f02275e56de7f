"""The job-side commands: ``opentrace send`` for shell scripts, ``opentrace exec`` for
unmodified commands. Both talk to the server through ``ingest.client``.

    opentrace send start --job nightly-import --run 2026-11-25 attributes:='{"host": "a"}'
    opentrace send progress --job nightly-import --run 2026-11-25 done=40 total=100
    opentrace send payload --job nightly-import data:='{"path": "/in/x.csv"}' name=input
    opentrace exec --job nightly-import -- ./import.sh /in/x.csv

``field=value`` gives a string (a number for done, total, value and seconds);
``field:=JSON`` gives any JSON value. Fields go after the options.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from collections.abc import Sequence
from typing import Any

from ingest import wrapper
from ingest.client import (
    Client,
    Delivery,
    Event,
    Outcome,
    make_event,
    new_run_key,
    process_attributes,
)

NUMERIC_FIELDS = frozenset({"done", "total", "value", "seconds"})
KIND_FIELDS = {
    "start": "[attributes:=JSON-OBJECT]",
    "progress": "done=N [total=N] [unit=TEXT] [stage=TEXT]",
    "metric": "name=TEXT value=N [unit=TEXT]",
    "note": "text=TEXT [level=info|warning|error]",
    "payload": "name=TEXT data:=JSON",
    "duration": "name=TEXT seconds=N",
    "milestone": "name=TEXT [status=reached|failed|skipped] [text=TEXT]",
    "finish": "status=succeeded|failed|partial|cancelled [text=TEXT]",
}
DEFAULTS: dict[str, dict[str, Any]] = {
    "note": {"level": "info"},
    "milestone": {"status": "reached"},
}
"""The same defaults as the Python API's."""
EXIT_OK, EXIT_UNDELIVERED, EXIT_USAGE = 0, 1, 2
_FIELD_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_SET_BY_OPTIONS = {"job": "--job", "run": "--run", "kind": "the KIND argument"}


class UsageError(ValueError):
    """A command line that cannot be turned into an event."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``send`` and ``exec`` to the ``opentrace`` command."""
    _register_send(subparsers)
    _register_exec(subparsers)


def _register_send(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    send = subparsers.add_parser(
        "send",
        help="send one event (for shell scripts)",
        description="Send one event. Prints the server's answer as one JSON line. Exit "
        "status: 0 accepted or spooled, 1 not delivered (--no-spool), 2 usage error or "
        "refused by the server.",
    )
    kinds = send.add_subparsers(dest="kind", metavar="KIND", required=True)
    for kind, fields in KIND_FIELDS.items():
        parser = kinds.add_parser(kind, help=fields, description=f"Send a {kind} event.")
        _add_connection_options(parser)
        parser.add_argument("--job", required=True, help="the job's slug")
        parser.add_argument(
            "--run",
            help="run key; without it the server uses the job's latest unfinished run "
            "(for start: it makes one, and the answer names it)",
        )
        parser.add_argument(
            "--no-spool",
            action="store_true",
            help="exit 1 when the server cannot be reached, instead of spooling the event",
        )
        parser.add_argument("fields", nargs="*", metavar="FIELD", help=fields)
    send.set_defaults(func=send_command)


def _register_exec(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "exec",
        help="run a command and report it as one run",
        description="Run COMMAND unchanged (same output, same exit code) and report it: "
        "start, duration, the last lines of output and finish.",
    )
    _add_connection_options(parser)
    parser.add_argument("--job", required=True, help="the job's slug")
    parser.add_argument("--run", help="run key (default: a new one)")
    parser.add_argument(
        "--tail",
        type=_lines_count,
        default=20,
        metavar="N",
        help="keep the last N lines of output for the closing note (default 20)",
    )
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND [ARG ...]")
    parser.set_defaults(func=exec_command)


def _add_connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help="OpenTrace URL (default: $OPENTRACE_URL or 127.0.0.1:8080)")
    parser.add_argument("--token", help="API token (default: $OPENTRACE_TOKEN)")


def send_command(args: argparse.Namespace) -> int:
    """``opentrace send``: one event from the command line."""
    try:
        fields = parse_fields(args.fields)
    except UsageError as error:
        print(f"opentrace send: {error}", file=sys.stderr)
        return EXIT_USAGE
    event = make_event(args.kind, args.job, args.run, _with_defaults(args.kind, fields))
    client = Client(args.url, args.token)
    delivery = client.deliver([event], spool=False)
    if delivery.outcome is Outcome.UNDELIVERED and not args.no_spool:
        return _spool(client, event, delivery)
    return _report(delivery)


def exec_command(args: argparse.Namespace) -> int:
    """``opentrace exec``: returns the command's exit code, whatever OpenTrace does."""
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        print(
            "opentrace exec: no command (usage: opentrace exec --job J -- COMMAND ...)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    client = Client(args.url, args.token)
    return wrapper.execute(command, client, job=args.job, run_key=args.run, tail_lines=args.tail)


def parse_fields(items: Sequence[str]) -> dict[str, Any]:
    """``key=value`` and ``key:=JSON`` arguments as event fields."""
    fields: dict[str, Any] = {}
    for item in items:
        key, value = _parse_field(item)
        if key in _SET_BY_OPTIONS:
            raise UsageError(f"{key} is given with {_SET_BY_OPTIONS[key]}, not as a field")
        if key in fields:
            raise UsageError(f"field {key!r} given twice")
        fields[key] = value
    return fields


def _parse_field(item: str) -> tuple[str, Any]:
    key, separator, text = item.partition("=")
    is_json = key.endswith(":")
    key = key.removesuffix(":")
    if not separator or not _FIELD_NAME.match(key):
        raise UsageError(f"expected field=value or field:=JSON, got {item!r}")
    if is_json:
        return key, _json_value(key, text)
    if key in NUMERIC_FIELDS:
        return key, _number(key, text)
    return key, text


def _json_value(key: str, text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as error:
        raise UsageError(f"{key}:= needs JSON ({error}), got {text!r}") from None


def _number(key: str, text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise UsageError(f"{key} must be a number, got {text!r}")
    return number


def _with_defaults(kind: str, fields: dict[str, Any]) -> dict[str, Any]:
    if kind == "start":
        return {**fields, "attributes": _start_attributes(fields.get("attributes"))}
    return {**DEFAULTS.get(kind, {}), **fields}


def _start_attributes(given: Any) -> Any:
    """Host and user of the script, under the attributes given (a non-object is left to
    the server to refuse). The pid is the script's: ours would mean nothing."""
    if given is not None and not isinstance(given, dict):
        return given
    return {**process_attributes(None, "send", pid=os.getppid()), **(given or {})}


def _spool(client: Client, event: Event, failure: Delivery) -> int:
    """Keep an event the server did not get; a start event gets its run key now, so
    that the script can use it and a later retry stays idempotent."""
    if event["kind"] == "start" and "run" not in event:
        event["run"] = new_run_key()
    if not client.spool([event]):
        print(f"opentrace send: not delivered ({failure.message}) and not spooled", file=sys.stderr)
        return EXIT_UNDELIVERED
    print(
        f"opentrace send: OpenTrace unavailable ({failure.message}); event spooled to {client.spool_path}",
        file=sys.stderr,
    )
    runs = [{"job": event["job"], "run": event["run"]}] if "run" in event else []
    _print_json({"accepted": 0, "duplicates": 0, "spooled": 1, "runs": runs})
    return EXIT_OK


def _report(delivery: Delivery) -> int:
    if delivery.answer is not None:
        _print_json(delivery.answer)
    if delivery.outcome is Outcome.ACCEPTED:
        return EXIT_OK
    if delivery.outcome is Outcome.UNDELIVERED:
        print(f"opentrace send: not delivered: {delivery.message}", file=sys.stderr)
        return EXIT_UNDELIVERED
    print(f"opentrace send: refused by the server: {delivery.message}", file=sys.stderr)
    return EXIT_USAGE


def _print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False), flush=True)


def _lines_count(text: str) -> int:
    count = int(text)
    if count < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return count
