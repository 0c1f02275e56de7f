"""Words of questions that name no stored fact themselves, and the thing a "which …" or "how
many …" question asks for."""

import re
from collections.abc import Collection

from bot.jobfinder import GENERIC, job_words, names_of
from bot.language import PLAIN_WORDS
from bot.matching import root
from bot.periods import TIME_WORDS
from bot.stored import CONCEPTS
from storage.models import Job

# Words that carry no fact of their own in a question ("which api does it pull from").
FILLER = frozenset({
    "who", "whom", "whose", "are", "be", "been", "its", "get", "gets", "got", "go", "goes",
    "went", "gone", "pull", "pulls", "pulled", "send", "sends", "sent", "use", "uses", "used",
    "check", "checks", "checked", "work", "worked", "works", "tell", "show", "give", "me",
    "you", "we", "i", "there", "please", "pls", "right", "now", "currently", "on", "from",
    "into", "about", "should", "can", "could", "would", "will", "again", "any",
    "all", "so", "far", "up", "out", "off", "one", "ones", "latest", "recent", "most",
    "der", "die", "das", "den", "dem", "des", "ist", "war", "wer", "welche", "welcher",
    "welchem", "welches", "was", "wie", "wo", "wann", "vom", "von", "fuer", "auf", "mit",
    "lief", "laeuft", "hat", "hast", "im", "am", "um", "zu", "zum", "zur", "sagen", "say",
    "said", "says", "look", "like", "time", "my", "your", "our", "their", "his", "her", "an",
    "find", "where", "wheres", "located", "location", "newest",
})
# Words after "which"/"how many" that ask for no stored thing of their own.
HEAD_FREE = frozenset({"times", "time", "runs", "run", "day", "days", "one", "ones", "kind", "sort",
                       "number", "value", "values", "amount", "percent", "percentage", "share",
                       "rows", "lines", "records", "items", "errors", "step", "stage", "part",
                       "point", "steps", "milestone", "milestones", "numbers", "metric", "metrics",
                       "mal", "tage", "laeufe", "nights", "weeks", "hours", "minutes", "long",
                       "much", "many", "did", "does", "was", "were", "has", "have", "should",
                       "folder", "directory", "location", "place", "file", "files", "name", "path",
                       "job", "jobs", "thing", "things", "info", "information", "details"})
CONCEPT_WORDS = frozenset(w for c in CONCEPTS for w in (*c.words, *c.keys))
STOP = GENERIC | PLAIN_WORDS | set(TIME_WORDS) | FILLER | CONCEPT_WORDS


HEAD = re.compile(r"\b(?:which|what|welche[rsnm]?|how many|how much|wie viele) (?:of the |of |the )?"
                  r"(?P<phrase>[a-z ]+)")
# Words that end the noun phrase a question asks about: "which carrier | had the most …".
PHRASE_ENDS = frozenset({"did", "does", "do", "had", "has", "have", "was", "were", "is", "are",
                         "got", "get", "went", "run", "ran", "runs", "can", "will", "should", "of",
                         "in", "on", "at", "for", "from", "to", "by", "with", "the", "a", "an",
                         "hat", "hatte", "ist", "war", "wurde", "wurden", "haben", "sind", "came",
                         "come", "comes", "go", "goes", "made", "make", "makes", "took", "take",
                         "takes", "gets", "running", "used", "uses", "use", "write", "wrote",
                         "writes", "read", "reads", "produce", "produced", "load", "loaded",
                         "kicked", "started", "finished", "end", "ends", "ended"})


def described_words(job: Job | None) -> set[str]:
    """The words of a job's description: where a word of a question may be known from."""
    return set(re.findall(r"[a-z]+", (job.description or "").lower())) if job else set()


def unplaced_head(text: str, job: Job | None, placed: Collection[str],
                  known: Collection[str] = ()) -> str | None:
    """The thing a "which …" or "how many …" question asks for, when nothing found holds it:
    "which carrier had the most rejected rates" (no carrier is stored with the rates), "how
    many containers" (no containers are counted), "which python version" (the version
    stored is the job's own). The last word of the phrase must be `placed` (in the answer
    found); a word before it ("lane rates") only `known` somewhere (a value, the description)."""
    found = HEAD.search(text)
    if found is None:
        return None
    phrase: list[str] = []
    for word in found["phrase"].split()[:2]:  # "which python version", "how many lane rates"
        if word in PHRASE_ENDS:
            break
        phrase.append(word)
    own = {root(w) for w in job_words(job)} if job else set()
    # "which rate import had …" names the job; "which carrier had …" (a word of "Carrier rate
    # import") asks for carriers: a single word of the job's name is free only as a name.
    if len(phrase) == 1 and job is not None and phrase[0] not in names_of(job):
        own = set()
    free = own | {root(w) for w in placed}
    for position, word in enumerate(phrase):
        if word in STOP or word in HEAD_FREE or len(word) < 3 or root(word) in free:
            continue
        if position < len(phrase) - 1 and root(word) in {root(w) for w in known}:
            continue
        return word
    return None
