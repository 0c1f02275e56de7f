"""Questions as people type them: lowercase, no punctuation, typos, @mentions."""

import re
from collections.abc import Iterable
from difflib import get_close_matches

MENTION = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)
WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
APOSTROPHE_S = re.compile(r"['’]s\b")


PLAIN_WORDS = frozenset({
    "about", "after", "again", "against", "around", "because", "been", "before", "being", "below",
    "between", "could", "does", "doing", "during", "each", "either", "every", "from", "further",
    "have", "having", "here", "into", "itself", "just", "last", "later", "might", "more", "most",
    "much", "must", "never", "night", "other", "over", "please", "right", "same", "shall",
    "should", "since", "some", "such", "than", "that", "their", "them", "then", "there", "these",
    "they", "thing", "think", "this", "those", "though", "through", "under", "until", "very",
    "were", "what", "when", "where", "whether", "which", "while", "will", "with", "within",
    "would", "your", "yours",
})


def normalize(text: str) -> str:
    """Lowercase words and digits only; '@OpenTrace did it run?' → 'did it run'."""
    text = MENTION.sub(" ", text).lower().replace("’", "'")
    text = APOSTROPHE_S.sub("", text)  # "today's import" → "today import"
    text = re.sub(r"@\w+", " ", text)
    return " ".join(w.replace("'", "") for w in WORD.findall(text))


def words(text: str) -> list[str]:
    return text.split()


def stem(word: str) -> str:
    """A crude English stem so that 'skipped', 'skips' and 'skip' meet."""
    for suffix in ("ings", "ing", "ied", "ies", "ed", "es", "s"):
        if suffix == "es" and not word.endswith(("ses", "xes", "zes", "ches", "shes")):
            continue
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)]
            if suffix in ("ied", "ies"):
                base += "y"
            if len(base) > 3 and base[-1] == base[-2] and base[-1] not in "aeiouls":
                base = base[:-1]  # skipp → skip, but keep "fill", "pass"
            return base
    return word


def correct(tokens: list[str], vocabulary: Iterable[str]) -> list[str]:
    """Replace unknown words of five letters or more by a close known word ('finsihed' →
    'finished', 'improt' → 'import'). Short and everyday words are left alone: 'will' is
    not a typo of 'still'."""
    known = set(vocabulary)
    ordered = sorted(known)
    fixed = []
    for token in tokens:
        if token in known or token in PLAIN_WORDS or len(token) < 5 or token.isdigit():
            fixed.append(token)
            continue
        close = get_close_matches(token, ordered, n=1, cutoff=0.8)
        fixed.append(close[0] if close else token)
    return fixed
