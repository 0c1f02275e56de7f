"""When the engine is not sure what was asked: it says in one line what it understood and
offers the closest readings as buttons that ask them, instead of answering another question."""

from collections.abc import Sequence

from alerts.wording import listing, quoted
from bot import cards
from bot.facts import Reply
from bot.handlers import Ask
from bot.jobfinder import job_words
from bot.question_words import STOP


def content_words(ask: Ask) -> set[str]:
    """The words that must name what is asked: not the job's name, not a time, not filler."""
    own = job_words(ask.job) if ask.job else set()
    return {w for w in ask.text.split() if w not in STOP and w not in own and w.isalpha()
            and len(w) > 2}


def unsure(ask: Ask, unplaced: set[str], known: Sequence[str]) -> Reply:
    """"I'm not sure what 'sharepoint folder' means for X" with what it does know, and the
    readings closest to the question as buttons."""
    title = ask.job.title if ask.job else "your jobs"
    words = listing([quoted(w) for w in sorted(unplaced)])
    text = f"I'm not sure what {words} means for {title}."
    if known:
        text += f" What I have stored for it: {listing(list(known))}."
    text += " Did you mean one of these?"
    return Reply(text, cards.choices_card("Did you mean…?", text, readings(ask)))


def readings(ask: Ask) -> list[str]:
    """The questions closest to `ask` that the engine answers surely."""
    name = ask.job.title if ask.job else "import"
    when = f" {ask.period.label}" if ask.period else ""
    return [f"did the {name} run{when}?", f"what happened to the {name}{when}?",
            f"what did the {name} produce{when}?"]
