"""What is stored about a job and a run, as named values a question can ask for: the job's
definition (owner, time zone, schedule, description), a run's start attributes (host,
version, trigger — any key), every field inside its payloads, and its notes.

Nothing here is hand-written per field: a stored key is matched by its own words ("invoice
batch" → `invoice-batch.batch_id`) or by the natural words of a few common concepts
("which machine" → `host`). A new field becomes askable the moment a job sends it."""

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from alerts.wording import quantity
from bot.matching import root as matching_root
from storage.models import Event, Job, Run

MAX_FIELDS = 200  # per run: payloads can be large; the first fields are the telling ones
MAX_DEPTH = 4


@dataclass(frozen=True)
class Concept:
    """A kind of fact people ask for in their own words, and where it would come from."""

    name: str
    keys: tuple[str, ...]  # stored keys that hold it ("host", "hostname")
    words: tuple[str, ...]  # words that ask for it ("machine", "server")
    source: str  # where it comes from when missing: definition | start | payload


CONCEPTS = (
    Concept("owner", ("owner", "team", "contact", "maintainer"),
            ("owner", "owns", "own", "owned", "responsible", "charge", "contact", "ping", "talk",
             "maintainer", "maintains", "zustaendig", "verantwortlich", "ansprechpartner"),
            "definition"),
    Concept("host", ("host", "hostname", "machine", "server", "node", "worker", "pod"),
            ("host", "hostname", "machine", "server", "box", "node", "worker", "instance",
             "rechner", "computer", "vm", "pod"), "start"),
    Concept("version", ("version", "release", "build"),
            ("version", "release", "deployed", "deploy", "deployment", "build"), "start"),
    Concept("trigger", ("trigger", "triggered_by", "started_by", "scheduler", "orchestrator", "user",
                        "username", "operator", "initiator", "launched_by", "run_by"),
            ("trigger", "triggered", "kicked", "launched", "orchestrator", "scheduler"), "start"),
    Concept("commit", ("commit", "git_sha", "sha", "revision"),
            ("commit", "git", "sha", "revision"), "start"),
    Concept("size", ("size", "bytes", "size_mb", "size_bytes"),
            ("size", "big", "large", "mb", "gb", "kb", "bytes", "megabytes"), "payload"),
    Concept("email", ("email", "mail", "e_mail", "phone", "telephone"),
            ("email", "mail", "phone", "telephone", "telefon", "handynummer", "slack", "handle"),
            "definition"),
    Concept("vendor", ("vendor", "supplier", "sender", "provider", "partner", "source_system"),
            ("vendor", "supplier", "sends", "sender", "provider", "lieferant", "delivers"), "payload"),
    Concept("timezone", ("timezone",), ("timezone", "zone"), "definition"),
    Concept("alert", ("alert",), ("alerted", "alerts", "notified", "notify", "paged", "informed",
                                 "benachrichtigt", "escalated"), "definition"),
)
# Facts asked for by two words, which jobs seldom report: asked for, they are the question
# ("exit code of the failed audit?" asks no yes or no about the run).
PHRASED = (
    (("exit", "code"), Concept("exit code", ("exit_code", "exitcode", "returncode", "return_code",
                                             "exit_status", "rc"), (), "start")),
    (("return", "code"), Concept("exit code", ("exit_code", "exitcode", "returncode", "return_code",
                                               "exit_status", "rc"), (), "start")),
    (("stack", "trace"), Concept("stack trace", ("stack_trace", "stacktrace", "traceback"), (), "note")),
    (("cpu", "usage"), Concept("CPU usage", ("cpu", "cpu_pct", "cpu_seconds"), (), "payload")),
    (("memory", "usage"), Concept("memory usage", ("memory", "memory_mb", "rss", "max_rss"), (),
                                  "payload")),
)
CONCEPT_BY_NAME = {concept.name: concept for concept in CONCEPTS}


@dataclass(frozen=True)
class Stored:
    key: str  # "owner", "host", "invoice-batch.batch_id", "note"
    value: str
    source: str  # definition | start | payload | metric | note
    at: datetime | None = None

    @property
    def words(self) -> set[str]:
        return {root(w) for w in re.split(r"[^a-z0-9]+", self.key.lower()) if w}

    @property
    def concept(self) -> Concept | None:
        leaf = self.key.rsplit(".", 1)[-1].lower()
        for concept in CONCEPTS:
            if leaf in concept.keys or (self.source != "payload" and self.words & {
                    root(k) for k in concept.keys}):
                return concept
        return None

    @property
    def label(self) -> str:
        return self.key.replace("_", " ")


root = matching_root  # one rule for every name a question may use


def expected_milestones(job: Job) -> list[str]:
    """The milestones its definition expects, in the order it names them, its final last."""
    named = [m.get("name") for m in job.expect.get("milestones", []) if isinstance(m, dict)]
    return list(dict.fromkeys(str(n) for n in [*named, job.expect.get("final_milestone")] if n))


def definition_facts(job: Job) -> list[Stored]:
    facts = [Stored("owner", job.owner, "definition")] if job.owner else []
    if job.timezone:
        facts.append(Stored("timezone", job.timezone, "definition"))
    if job.description:
        facts.append(Stored("description", job.description, "definition"))
    if job.alert:
        facts.append(Stored("alert", ", ".join(job.alert), "definition"))
    return facts


NEAR_WORDS = {"folder": "path", "directory": "path", "ordner": "path", "verzeichnis": "path",
              "dir": "path"}
PERSON_KEYS = frozenset({"user", "username", "operator", "initiator", "started_by", "triggered_by",
                         "run_by", "launched_by"})
VERSIONS = re.compile(r"(?<![\w.])\d+\.\d+(?:\.\d+)*(?![\w])")


def run_facts(run: Run, events: Sequence[Event]) -> list[Stored]:
    """A run's start attributes, its payloads' fields (flattened: `payload.key.key`) and
    its notes."""
    facts = [Stored(str(k), text, "start", run.started_at)
             for k, v in run.attributes.items() if (text := _text(v))]
    if run.summary:  # "failed: make (exit code 2)", as `opentrace exec` reports it
        facts.append(Stored("finish message", run.summary, "note", run.finished_at))
    for event in events:
        if event.kind == "payload" and event.name:
            facts.extend(Stored(key, value, "payload", event.at)
                         for key, value in flatten(event.name, event.data.get("data")))
        elif event.kind == "metric" and event.name and event.value is not None:
            facts.append(Stored(event.name, quantity(event.value, event.data.get("unit")),
                                "metric", event.at))
        elif event.kind == "note" and event.data.get("text"):
            facts.append(Stored(f"note {event.data.get('level', 'info')}",
                                str(event.data["text"]), "note", event.at))
        if len(facts) > MAX_FIELDS:
            break
    return facts[:MAX_FIELDS]


def flatten(prefix: str, data: Any, depth: int = 0) -> list[tuple[str, str]]:
    """("input-file.path", "/data/x.csv") for every scalar inside a payload."""
    if depth > MAX_DEPTH:
        return []
    if isinstance(data, dict):
        return [pair for k, v in list(data.items())[:50] for pair in flatten(f"{prefix}.{k}", v, depth + 1)]
    if isinstance(data, list):
        if all(not isinstance(item, dict | list) for item in data):
            text = ", ".join(t for item in data[:20] if (t := _text(item)))
            return [(prefix, text)] if text else []
        return [pair for item in data[:20] for pair in flatten(prefix, item, depth + 1)]
    text = _text(data)
    return [(prefix, text)] if text else []


def _text(value: Any) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


# --- matching a question to what is stored ----------------------------------------------------

@dataclass(frozen=True)
class Match:
    fact: Stored
    score: float


def asked_concepts(tokens: Iterable[str]) -> list[Concept]:
    """The concepts a question's words ask for ("which server" → host); "who" asks for the
    owner only when nothing else is asked."""
    tokens = list(tokens)
    asked = set(tokens)
    found = [c for c in CONCEPTS if asked & set(c.words) or asked & set(c.keys)]
    if any(a in ("started", "run", "ran", "launched") and b in ("by", "via")
           for a, b in itertools.pairwise(tokens)) and CONCEPT_BY_NAME["trigger"] not in found \
            and not asked & {"often", "many"}:  # "how often was it started by hand": a count
        found.append(CONCEPT_BY_NAME["trigger"])  # "started by cron or airflow?"
    if "how" in asked and asked & {"started", "triggered", "launched", "kicked"} and \
            CONCEPT_BY_NAME["trigger"] not in found and not asked & {"often", "many"}:
        found.append(CONCEPT_BY_NAME["trigger"])  # "how was the 4am audit started?"
    if not found and asked & {"who", "whom", "wer", "wen", "wem"}:
        found = [CONCEPT_BY_NAME["owner"]]
    return phrased_concepts(tokens) + found


def phrased_concepts(tokens: Sequence[str]) -> list[Concept]:
    pairs = set(itertools.pairwise(tokens))
    return list({c.name: c for words, c in PHRASED if words in pairs}.values())


def best_facts(content: set[str], concepts: list[Concept], facts: Sequence[Stored],
               raw_question: str) -> list[Match]:
    """Stored facts the question names, best first: by concept, by the key's own words, by
    words of the value ("which api" → a value "https://api.trackhub.io"), or by the value
    itself ("switch to 0.9.3")."""
    roots = {root(w) for w in content}
    asks_who = bool(re.match(r"\s*(who|wer)\b", raw_question.lower()))
    # The word after "which" names what is asked: "which ports do the batches go through".
    head = {root(m) for m in re.findall(r"\b(?:which|what|welche\w*) (\w+)", raw_question.lower())}
    matches = []
    for fact in facts:
        score = 0.0
        if fact.concept is not None and fact.concept in concepts:
            score += 10
            if asks_who and fact.key.rsplit(".", 1)[-1].lower() in PERSON_KEYS:
                score += 2  # "who kicked it off": the person, before "manual"
        score += 3 * len(fact.words & roots) + 2 * len(fact.words & roots & head)
        # A near word counts for less than the key's own: "the invoice folder" is the input's
        # path, but "which sharepoint folder" alone is no local path.
        score += 2 * len(fact.words & {NEAR_WORDS[w] for w in content if w in NEAR_WORDS})
        value_words = {root(w) for w in re.split(r"[^a-z0-9]+", fact.value.lower()) if w}
        score += len(value_words & roots)
        if any(fact.value.lower().endswith(f".{w}") for w in content if w.isalnum()):
            score += 5  # "the customs xml": a file the run wrote or read
        if len(fact.value) >= 3 and re.search(rf"(?<![\w.]){re.escape(fact.value.lower())}(?![\w])",
                                               raw_question.lower()):
            score += 5
        elif any(fact.value.startswith(f"{v}.") for v in VERSIONS.findall(raw_question)):
            score += 5  # "switch to 4.8" names the value "4.8.0"
        if score:
            matches.append(Match(fact, score))
    return sorted(matches, key=lambda m: -m.score)


def missing_text(concept: Concept, title: str) -> str:
    """Where a fact would come from, when nothing holds it: the first sentence says it is
    not known."""
    if concept.name == "owner":
        return f"No owner is set for {title}; add `owner` to its job definition."
    if concept.source == "definition":
        return (f"I don't know {title}'s {concept.name}: none is set; add `{concept.name}` to "
                f"its job definition.")
    if concept.source == "payload":
        return (f"I don't know: {title}'s runs report no {concept.name}; a job sends it in a "
                f"payload (for example `{{\"{concept.keys[0]}\": …}}`).")
    if concept.source == "note":
        return (f"I don't know: {title}'s runs report no {concept.name}; a job sends one in a "
                f"note or in its finish text.")
    return (f"I don't know: {title}'s runs report no {concept.name}; a job sends it as a start "
            f"attribute (`attributes: {{\"{concept.keys[0]}\": …}}`).")
