"""Which job a question is about: by slug, title, aliases, then word by word with typos."""

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from bot.language import PLAIN_WORDS, UMLAUTS, stem
from bot.periods import TIME_WORDS
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
# Words of teams, not of people: an owner named so is not taken as a person's name.
PERSON_NOT = {"data", "team", "ops", "platform", "finance", "sales", "it", "engineering",
              "analytics", "support", "operations", "logistics", "planning", "group"}
# Words people write as they are, never typos of a name: "file" is not "filing".
NOT_TYPOS = {"file", "files", "name", "names", "folder", "sheet", "table", "tables", "report",
             "reports"}
PHRASE_SCORE = 100
WHOLE_NAME_SCORE = 50  # every distinctive word of one of its names is in the question
WORD_SCORE = 10
WEAK_WORD_SCORE = 4


@dataclass(frozen=True)
class Candidate:
    job: Job
    score: float


def names_of(job: Job) -> list[str]:
    """Its slug, title and aliases, and its owner's name when that is a person's: people
    name a job by whose it is ("Katrin's import", "how is priyas forecast doing")."""
    spaced = re.sub(r"[-_.]+", " ", job.slug)
    return list(dict.fromkeys(n.lower().translate(UMLAUTS)
                              for n in [job.slug, spaced, job.title, *job.aliases, person_of(job.owner)]
                              if n))


def person_of(owner: str | None) -> str:
    """"Katrin Vogel" → "katrin vogel"; a team, an address or a word questions use ("Data
    Platform", "ops@x.com") → "": it would name the job by accident."""
    names = (owner or "").split()
    if not 1 <= len(names) <= 4 or not all(re.fullmatch(r"[A-ZÄÖÜ][a-zäöüß'-]+", n) for n in names):
        return ""
    if any(n.lower() in GENERIC or n.lower() in WEAK or n.lower() in PLAIN_WORDS or
           n.lower() in PERSON_NOT for n in names):
        return ""
    return " ".join(names)


def job_words(job: Job) -> set[str]:
    words: set[str] = set()
    for name in names_of(job):
        words.update(w for w in re.findall(r"[a-z0-9]+", name) if w not in GENERIC)
    return words


class JobIndex:
    """The jobs' names, split and stemmed once per job list, so that a question is matched
    against each distinct word once instead of against every word of every job."""

    def __init__(self, jobs: list[Job]) -> None:
        self.jobs = jobs
        self._plain_names = {job.slug: [_plain(n) for n in names_of(job)] for job in jobs}
        self._distinctive = {job.slug: [_distinctive(n) for n in names_of(job)] for job in jobs}
        self._by_stem: dict[str, list[tuple[Job, str]]] = {}
        for job in jobs:
            for word in job_words(job):
                self._by_stem.setdefault(stem(word), []).append((job, word))
        self.words = {word for job in jobs for word in job_words(job)}
        self._close: dict[str, list[tuple[Job, str]]] = {}
        self._order = {job.slug: (i, job) for i, job in enumerate(jobs)}
        self._owner_words = {job.slug: set(person_of(job.owner).lower().split()) for job in jobs}
        # Names by their first word: a question is checked only against the names it may hold.
        self._by_first_word: dict[str, list[Job]] = {}
        for job in jobs:
            for name in self._plain_names[job.slug]:
                if name:
                    self._by_first_word.setdefault(name.split()[0], []).append(job)

    def rank(self, text: str, tokens: list[str]) -> list[Candidate]:
        """Jobs the question may mean, best first; empty when it names none."""
        padded = f" {text} "
        matched: dict[str, set[str]] = {}
        for token in tokens:
            if token in GENERIC or len(token) < 3:
                continue
            # Everyday and time words are not typos of a name: "week" is not "weekly".
            fuzzy = token not in PLAIN_WORDS and token not in TIME_WORDS and token not in NOT_TYPOS
            if len(stem(token)) < 4 and token not in self.words:
                continue  # "filed" and "filings" share only "fil": not the same word
            for job, word in self._matches(stem(token), fuzzy=fuzzy):
                matched.setdefault(job.slug, set()).add(word)
        # Only jobs a word hit or whose name may start here can score: at 2,000 jobs a
        # question is not matched against every name.
        maybe = {job.slug: job for token in set(tokens) for job in self._by_first_word.get(token, [])}
        maybe.update((slug, self._order[slug][1]) for slug in matched)
        candidates = []
        for job in maybe.values():
            candidate = self._score(job, padded, matched.get(job.slug, set()))
            if candidate > 0:
                candidates.append(Candidate(job, candidate))
        return sorted(candidates, key=lambda c: (-c.score, self._order[c.job.slug][0]))

    def _matches(self, token: str, *, fuzzy: bool = True) -> list[tuple[Job, str]]:
        """Jobs with a word of this stem; with `fuzzy`, also a typo of one ("right" is an
        everyday word, not a typo of "freight")."""
        if token in self._by_stem:
            return self._by_stem[token]
        if len(token) < 4 or not fuzzy:
            return []
        if token not in self._close:  # typos: "improt" → import
            self._close[token] = [hit for candidate, hits in self._by_stem.items()
                                  if _similar(token, candidate) for hit in hits]
        return self._close[token]

    def _score(self, job: Job, padded: str, matched: set[str]) -> float:
        phrases = [n for n in self._plain_names[job.slug] if n and f" {n} " in padded]
        if phrases:
            return PHRASE_SCORE + max(len(p) for p in phrases)
        total = float(sum(WEAK_WORD_SCORE if w in WEAK else WORD_SCORE for w in matched))
        if matched & self._owner_words[job.slug]:  # "Ana's import": whose it is names it surely
            total += WHOLE_NAME_SCORE
        whole = [len(" ".join(sorted(w))) for w in self._distinctive[job.slug] if w and w <= matched]
        if whole:  # "import" names the job whose alias is "the import" more than "price-import"
            return WHOLE_NAME_SCORE + total + max(whole)
        return total


def _similar(a: str, b: str) -> bool:
    """Typo-close: SequenceMatcher's ratio ≥ 0.8, with its cheap upper bounds tried first."""
    if abs(len(a) - len(b)) > 2:
        return False  # "freighthub" is another word than "freight", not a typo of it
    matcher = SequenceMatcher(None, a, b)
    return matcher.real_quick_ratio() >= 0.8 and matcher.quick_ratio() >= 0.8 \
        and matcher.ratio() >= 0.8


def _plain(name: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", name))


def _distinctive(name: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", name) if w not in GENERIC}


def pick(candidates: list[Candidate]) -> tuple[Job | None, list[Job]]:
    """The one job meant, or None with the tied candidates to ask about."""
    if not candidates:
        return None, []
    best = candidates[0].score
    tied = [c.job for c in candidates if c.score == best]
    return (tied[0], tied) if len(tied) == 1 else (None, tied)
