"""Score the bot's answers to the held-out questions.

A question passes when all three hold:

1. Polarity. `expect.first` says what the answer's first sentence must do:
   "yes" / "no"  it starts with a yes word ("Yes", "Yep", "Ja" …) / a no word ("No", "Not yet",
                 "Nein", "Noch nicht" …), and is not "No idea" / "Not sure";
   "unsure"      it says it does not know ("not sure", "don't know", "no owner", "not recorded",
                 "which one", "did you mean", "I couldn't" …);
   null          anything.
   The first sentence runs up to the first ". ", "! ", "? " or line break; "Yes — …" counts.
2. Facts. Every group in `expect.facts` has at least one spelling in the answer, compared
   case-insensitively with whitespace collapsed. A spelling must not continue a word or number
   on its left ("1:31" is not found in "11:31", "212" not in "18,212"), nor a number on its
   right when it ends in a digit ("212" is not found in "2120").
3. Forbidden. No word of `expect.forbidden` appears as a whole word.

Usage:  python score.py answers.json [--split test|dev|all] [--questions questions.json]
where answers.json maps question id to the bot's answer text.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

YES = ("yes", "yep", "yeah", "yup", "ja", "jep", "jawohl", "correct")
NO = ("no", "nope", "not yet", "not quite", "nein", "noch nicht", "nicht ganz")
NOT_AN_ANSWER = ("no idea", "not sure", "i don't know", "i do not know", "keine ahnung")
UNSURE = (
    "not sure", "unsure", "don't know", "do not know", "doesn't say", "does not say",
    "don't have", "do not have", "no owner", "no one is", "nobody is", "not listed",
    "which one", "did you mean", "not recorded", "isn't recorded", "is not recorded",
    "not stored", "isn't stored", "is not stored", "no record", "nothing recorded",
    "not reported", "doesn't report", "does not report", "no information", "no data",
    "i couldn't", "i could not", "i can't", "i cannot", "can't tell", "cannot tell",
    "don't see", "do not see", "no job", "unknown", "not known", "not available",
    "keine angabe", "weiß nicht", "weiss nicht", "nicht bekannt", "nicht hinterlegt",
    "nicht gespeichert", "kein owner", "keinen owner", "welchen meinst",
)


def normalise(text: str) -> str:
    """Lower case, plain quotes and spaces, no Markdown emphasis, single spaces."""
    text = text.lower()
    for fancy, plain in (("\u2019", "'"), ("\u2018", "'"), ("\u201c", '"'), ("\u201d", '"'),
                         ("\u00a0", " "), ("\u202f", " "), ("\u2009", " ")):
        text = text.replace(fancy, plain)
    text = re.sub(r"\*\*|__|`", "", text)
    return re.sub(r"[ \t]+", " ", text).strip()


def first_sentence(answer: str) -> str:
    """The first sentence, without leading list markers, quote marks or @mentions."""
    text = normalise(answer)
    text = re.sub(r"^(?:[>\-•*#\s]+|@\S+\s+)+", "", text)
    return re.split(r"(?<=[.!?]) |\n", text, maxsplit=1)[0].strip()


def _starts_with(sentence: str, words: tuple[str, ...]) -> bool:
    return any(re.match(re.escape(word) + r"\b", sentence) for word in words)


def polarity_ok(answer: str, first: str | None) -> bool:
    if first is None:
        return True
    sentence = first_sentence(answer)
    if first == "unsure":
        return any(phrase in sentence for phrase in UNSURE)
    if _starts_with(sentence, NOT_AN_ANSWER):
        return False
    return _starts_with(sentence, YES if first == "yes" else NO)


def contains(text: str, spelling: str) -> bool:
    """`spelling` in the normalised `text`, not glued to a word or number around it."""
    pattern = r"(?<![\w])(?<!\d[.,])" + re.escape(normalise(spelling))
    if spelling[-1:].isdigit():
        pattern += r"(?![\d])(?![.,]\d)"
    return re.search(pattern, text) is not None


def judge(answer: str, expect: dict[str, Any]) -> tuple[bool, str]:
    """(ok, why): why names the first rule the answer breaks, or is "ok"."""
    if not answer or not answer.strip():
        return False, "no answer"
    if not polarity_ok(answer, expect.get("first")):
        return False, f"first sentence is not '{expect.get('first')}': {first_sentence(answer)!r}"
    text = normalise(answer)
    for group in expect.get("facts", []):
        if not any(contains(text, spelling) for spelling in group):
            shown = " / ".join(group[:4]) + (" / …" if len(group) > 4 else "")
            return False, f"missing fact: {shown}"
    for word in expect.get("forbidden", []):
        if re.search(r"\b" + re.escape(normalise(word)) + r"\b", text):
            return False, f"forbidden word: {word}"
    return True, "ok"


def score(answers: dict[str, str], questions: list[dict[str, Any]], split: str) -> dict[str, Any]:
    """Judge every question of `split` ("dev", "test" or "all"); print misses and the figure."""
    chosen = [item for item in questions if split == "all" or item["split"] == split]
    misses: list[dict[str, str]] = []
    for item in chosen:
        ok, why = judge(answers.get(item["id"], ""), item["expect"])
        if not ok:
            misses.append({"id": item["id"], "question": item["question"], "why": why})
            print(f"MISS {item['id']} [{item.get('kind', '?')}] {item['question']!r}: {why}")
    passed = len(chosen) - len(misses)
    percent = 100.0 * passed / len(chosen) if chosen else 0.0
    print(f"{split}: {passed} of {len(chosen)} ({percent:.1f}%)")
    return {"split": split, "passed": passed, "total": len(chosen), "percent": percent,
            "misses": misses}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("answers", type=Path, help="JSON object: question id -> answer text")
    parser.add_argument("--split", choices=("dev", "test", "all"), default="test")
    parser.add_argument("--questions", type=Path,
                        default=Path(__file__).with_name("questions.json"))
    args = parser.parse_args(argv)
    questions = json.loads(args.questions.read_text(encoding="utf-8"))
    answers = json.loads(args.answers.read_text(encoding="utf-8"))
    report = score(answers, questions, args.split)
    return 0 if report["passed"] == report["total"] else 1


if __name__ == "__main__":
    sys.exit(main())
