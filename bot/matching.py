"""Which of a run's named things — metrics, steps, milestones — a question's words name."""

from collections.abc import Iterable, Sequence

from bot.language import stem

# Words and the short forms metric names use for them.
SHORT_FORMS = {"percent": "pct", "percentage": "pct", "prozent": "pct", "number": "count",
               "average": "avg", "seconds": "sec", "minutes": "min", "errors": "error",
               "euros": "eur", "euro": "eur", "dollars": "usd", "dollar": "usd",
               "sheets": "tabs", "sheet": "tabs", "worksheets": "tabs", "blaetter": "tabs"}


def root(word: str) -> str:
    """The stem without a final e: "overcharged", "overcharges", "overcharge" meet; "percent"
    meets "pct"."""
    word = SHORT_FORMS.get(word.lower(), word.lower())
    base = stem(word)
    return base[:-1] if len(base) > 4 and base.endswith("e") else base


def name_words(name: str) -> list[str]:
    """"db-load" → ["db", "load"]; "rows_skipped" → ["rows", "skipped"]."""
    return name.replace("_", " ").replace("-", " ").replace(".", " ").split()


def best_named(tokens: Iterable[str], names: Sequence[str], ignore: Iterable[str] = (), *,
               at_least: int = 3) -> str | None:
    found = named_all(tokens, names, ignore, at_least=at_least)
    return found[0] if found else None


def named_all(tokens: Iterable[str], names: Sequence[str], ignore: Iterable[str] = (), *,
              at_least: int = 3) -> list[str]:
    """The names the words hit, best first. A hit on the job's own name words (`ignore`)
    counts for little and, by default, never alone: "how long did the rate import take" names
    no step "rates-loaded", but "the db load in the rate import" names "db-load". With
    `at_least` 1 the job's own words may name a metric when nothing else does ("the rate
    count": rates_parsed). Ties go to the name given first."""
    own = {root(w) for w in ignore}
    asked = {root(t) for t in tokens}
    scored = []
    for order, name in enumerate(names):
        parts = {root(w) for w in name_words(name)}
        hits = parts & asked
        score = sum(1 if w in own else 3 for w in hits)
        if score >= at_least:
            scored.append((-score, len(parts), order, name))
    return [name for *_, name in sorted(scored)]
