"""Which job a question is about: by slug, title, aliases, then word by word with typos."""

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from bot.language import has_phrase, stem
from storage.models import Job

# Words that say nothing about which job is meant.
GENERIC = {
    "the", "a", "an", "job", "jobs", "run", "runs", "ran", "did", "does", "do", "is", "it", "was",
    "has", "have", "today", "yesterday", "night", "last", "nightly", "daily", "this", "that",
    "what", "which", "when", "how", "why", "where", "many", "much", "long", "of", "on", "in",
    "for", "to", "and", "or", "my", "our", "finish", "finished", "done", "still", "running",
    "status", "ok", "okay", "fail", "failed", "happen", "happened", "yet", "with", "at", "by",
}
# Words that name a job less surely because questions use them for other things too.
WEAK = {"report", "file", "rows", "row", "data", "products", "product", "export", "sync"}
PHRASE_SCORE = 100
WHOLE_NAME_SCORE = 50  # every distinctive word of one of its names is in the question
WORD_SCORE = 10
WEAK_WORD_SCORE = 4


@dataclass(frozen=True)
class Candidate:
    job: Job
    score: float


def names_of(job: Job) -> list[str]:
    spaced = re.sub(r"[-_.]+", " ", job.slug)
    return list(dict.fromkeys(n.lower() for n in [job.slug, spaced, job.title, *job.aliases] if n))


def job_words(job: Job) -> set[str]:
    words: set[str] = set()
    for name in names_of(job):
        words.update(w for w in re.findall(r"[a-z0-9]+", name) if w not in GENERIC)
    return words


def rank(text: str, tokens: list[str], jobs: list[Job]) -> list[Candidate]:
    """Jobs the question may mean, best first; empty when it names none."""
    candidates = [Candidate(job, score(text, tokens, job)) for job in jobs]
    return sorted((c for c in candidates if c.score > 0), key=lambda c: -c.score)


def score(text: str, tokens: list[str], job: Job) -> float:
    phrases = [n for n in names_of(job) if has_phrase(text, _plain(n))]
    if phrases:
        return PHRASE_SCORE + max(len(p) for p in phrases)
    total = 0.0
    wanted = {stem(w): w for w in job_words(job)}
    matched: set[str] = set()
    for token in tokens:
        if token in GENERIC or len(token) < 3:
            continue
        match = _best_word(stem(token), wanted)
        if match is not None:
            matched.add(wanted[match])
            total += WEAK_WORD_SCORE if wanted[match] in WEAK else WORD_SCORE
    whole = [n for n in names_of(job) if (w := _distinctive(n)) and w <= matched]
    if whole:  # "import" names the job whose alias is "the import" more than "price-import"
        return WHOLE_NAME_SCORE + total + max(len(n) for n in whole)
    return total


def _distinctive(name: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", name) if w not in GENERIC}


def _best_word(token: str, wanted: dict[str, str]) -> str | None:
    if token in wanted:
        return token
    for candidate in wanted:
        if len(token) >= 4 and SequenceMatcher(None, token, candidate).ratio() >= 0.8:
            return candidate
    return None


def _plain(name: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", name))


def pick(candidates: list[Candidate]) -> tuple[Job | None, list[Job]]:
    """The one job meant, or None with the tied candidates to ask about."""
    if not candidates:
        return None, []
    best = candidates[0].score
    tied = [c.job for c in candidates if c.score == best]
    return (tied[0], tied) if len(tied) == 1 else (None, tied)
