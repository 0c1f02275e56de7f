"""Questions as people type them: lowercase, no punctuation, typos, @mentions."""

import re
from collections.abc import Iterable
from difflib import get_close_matches

MENTION = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)
WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
# Dates and times stay whole ("25.11.", "25.11.2026", "11/25", "2026-11-25", "02:00", "2:30pm")
# for `bot.periods`; a number inside a word or a file name ("v11/25", "products-2026-11-23.csv")
# is split into words as before.
DATE_OR_WORD = re.compile(
    r"(?<![\w./:-])(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[./]\d{1,2}[./]\d{2,4}|\d{1,2}\.\d{1,2}\.?"
    r"|\d{1,2}/\d{1,2}|\d{1,2}:\d{2}(?:am|pm)?)(?![\w/:-]|\.\d)"
    r"|[a-z0-9]+(?:['’][a-z]+)?")
DECIMAL = re.compile(r"\d{1,2}\.\d{1,2}")  # "version 2.11", but "on 25.11" (see normalize)
DATE_PREPOSITIONS = frozenset({"on", "am", "from", "to", "since", "until", "till", "between",
                               "and", "vom", "bis", "seit", "zum", "ab"})
# "switched to 4.8", "upgraded to 2.11": a version after these, never a date.
CHANGE_VERBS = frozenset({"switch", "switched", "upgrade", "upgraded", "update", "updated",
                          "move", "moved", "bump", "bumped", "change", "changed", "go", "went",
                          "version", "release", "v"})
TIME_POSSESSIVE = re.compile(r"\b(yesterday|today|tonight|(?:this|last) (?:morning|evening|night|week"
                             r"|month|weekend))s\b")
GERMAN_DAY = re.compile(r"\b(am|vom|bis|zum|seit|den|ab) (\d{1,2})\.(?!\d)")
UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})  # "nächstes" → "naechstes"
APOSTROPHE_S = re.compile(r"['’]s\b")


PLAIN_WORDS = frozenset({
    "about", "after", "again", "against", "around", "because", "been", "before", "being", "below",
    "between", "could", "does", "doing", "during", "each", "either", "every", "from", "further",
    "have", "having", "here", "into", "itself", "just", "last", "later", "might", "more", "most",
    "much", "must", "never", "night", "other", "over", "please", "right", "same", "shall",
    "should", "since", "some", "such", "than", "that", "their", "them", "then", "there", "these",
    "they", "thing", "think", "this", "those", "though", "through", "under", "until", "very",
    "were", "what", "when", "where", "whether", "which", "while", "will", "with", "within",
    "would", "your", "yours", "customer", "customers", "client", "clients", "people",
    "manager", "team", "boss", "colleague", "colleagues", "someone", "somebody", "anyone",
    "quick", "quickly", "hello", "thanks", "thank", "morning", "sorry", "lately", "recently",
})


# German words for what jobs count and reach, in the English of metric and milestone names
# ("wie viele sendungen wurden aktualisiert" asks for shipments_updated). Questions are
# answered in English; the question words and days are read by the intents and periods.
GERMAN = {
    "sendungen": "shipments", "sendung": "shipment", "aktualisiert": "updated",
    "abgelehnt": "rejected", "abgelehnte": "rejected", "abgelehnten": "rejected",
    "zeilen": "rows", "zeile": "row", "datensaetze": "records", "rechnungen": "invoices",
    "rechnung": "invoice", "geprueft": "checked", "veroeffentlicht": "published",
    "tarife": "tariffs", "tarif": "tariff", "dateien": "files", "fehler": "errors",
    "verspaetung": "delay", "gestartet": "started", "geladen": "loaded", "empfangen": "received",
    "eingegangen": "received", "angekommen": "arrived", "uebersprungen": "skipped",
    "verarbeitet": "processed", "gesendet": "sent", "verschickt": "sent", "erstellt": "created",
    "gefunden": "found", "lieferant": "vendor", "laeufe": "runs", "insgesamt": "total",
    "gesamt": "total", "durchschnitt": "average", "schnitt": "average", "schritt": "step",
    "ueberzahlungen": "overcharges", "abweichung": "error", "genauigkeit": "accuracy",
    "eingereicht": "submitted", "meldungen": "filings", "prognose": "forecast",
    "raten": "rates", "hiess": "name", "heisst": "name",
}


def normalize(text: str) -> str:
    """Lowercase words and digits only, dates and times kept whole; '@OpenTrace did it run on
    25.11.?' → 'did it run on 25.11.'. A "2.11" is a date only after "on", "since", "am"…"""
    text = MENTION.sub(" ", text).lower().replace("’", "'").translate(UMLAUTS)
    text = text.replace("%", " percent ")  # "on-time %": a share, which metrics call pct
    text = GERMAN_DAY.sub(r"\1 \2th", text)  # "am 16." is the 16th
    text = APOSTROPHE_S.sub("", text)  # "today's import" → "today import"
    text = TIME_POSSESSIVE.sub(r"\1", text)  # "yesterdays forecast", "this mornings mess"
    text = re.sub(r"@\w+", " ", text)
    tokens: list[str] = []
    for token in DATE_OR_WORD.findall(text):
        after_preposition = bool(tokens) and tokens[-1] in DATE_PREPOSITIONS and not (
            len(tokens) > 1 and tokens[-2] in CHANGE_VERBS)
        if DECIMAL.fullmatch(token) and not after_preposition:
            tokens.extend(token.split("."))
        else:
            tokens.append(token.replace("'", ""))
    return " ".join(CHAT.get(part, GERMAN.get(part, part)) for token in tokens
                    for part in _compound(token))


# How words are typed in chat: "wat did it say", "wen does it run", "hw long", "r u sure".
CHAT = {"wat": "what", "wot": "what", "wht": "what", "wen": "when", "wehn": "when", "hw": "how",
        "hwo": "how", "u": "you", "r": "are", "ur": "your", "bc": "because",
        "plz": "please", "thx": "thanks", "rn": "now", "tmrw": "tomorrow", "tmr": "tomorrow",
        "yest": "yesterday", "yda": "yesterday", "b4": "before", "abt": "about", "w": "with",
        "dat": "that", "wich": "which", "whcih": "which", "hte": "the", "nite": "night",
        "tonite": "tonight", "2day": "today", "2nite": "tonight"}


# German nouns made of two: "ratendatei" is "raten datei" (the rates' file).
COMPOUND_HEADS = ("datei", "dateien", "bericht", "liste", "tabelle", "fehler")


def _compound(token: str) -> list[str]:
    for head in COMPOUND_HEADS:
        if token.endswith(head) and len(token) - len(head) >= 4 and token.isalpha() and token != head:
            return [token[: -len(head)], head]
    return [token]


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


SHORT_WORDS = ("the", "long", "last", "late", "when", "what", "many", "much", "did", "was",
               "run", "ran", "how", "who", "job", "time", "took", "take", "done", "fail")


def _transposed(token: str, known: set[str]) -> str | None:
    """A short everyday word with two neighbouring letters swapped, its first letter kept."""
    for word in SHORT_WORDS:
        if len(word) == len(token) and word[0] == token[0] and sorted(word) == sorted(token) and \
                sum(a != b for a, b in zip(word, token, strict=True)) == 2:
            return word
    return None


def _forms_of_one_word(one: str, other: str) -> bool:
    """"updates" and "updated" (stems "update" and "updat"): one word, not a typo of it."""
    first, second = stem(one), stem(other)
    return first.removesuffix("e") == second.removesuffix("e")


def correct(tokens: list[str], vocabulary: Iterable[str]) -> list[str]:
    """Replace unknown words of five letters or more by a close known word ('finsihed' →
    'finished', 'improt' → 'import'). Short and everyday words are left alone: 'will' is
    not a typo of 'still', and dates and times ("25.11.", "02:00") are not words."""
    known = set(vocabulary)
    ordered = sorted(known)
    fixed = []
    for token in tokens:
        if 3 <= len(token) <= 4 and token.isalpha() and token not in known and \
                (swapped := _transposed(token, known)):
            fixed.append(swapped)  # "lnog" is "long", "teh" is "the"
            continue
        if token in known or token in PLAIN_WORDS or len(token) < 5 or token.isdigit() \
                or not token.isalnum() or stem(token) in known:  # "batches" is no typo of "batch"
            fixed.append(token)
            continue
        # A typo keeps its first letter: "folder" is not "oder", "finsihed" is "finished".
        close = get_close_matches(token, [w for w in ordered if w[:1] == token[:1]
                                          and abs(len(w) - len(token)) <= 2], n=1, cutoff=0.8)
        # "submit" is not a typo of "submitted": a word that begins another is a word; nor is
        # "updates" one of "updated": another form of the same word.
        fixed.append(close[0] if close and not close[0].startswith(token)
                     and not _forms_of_one_word(close[0], token) else token)
    return fixed
