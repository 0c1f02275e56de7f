"""A ratchet on understanding: the development questions of the held-out set
(tests/bot/heldout/: the development half of `questions.json` and the further development sets
`questions_extra.json` and `questions_dev3.json` … `questions_dev6.json`),
told and asked through the evaluator's own machinery, must score at least the figures reached
so far. The test half is never asked here: it is scored only by evaluate.py, so nobody tunes
on it."""

import json
import sys
from pathlib import Path
from typing import Any

HELDOUT = Path(__file__).with_name("heldout")
sys.path.insert(0, str(HELDOUT))

from evaluate import answers_for  # noqa: E402
from score import judge  # noqa: E402

# Raise these when understanding improves; never lower them to make a change pass.
AT_LEAST = (  # (file, split, questions it must answer right at least)
    ("questions.json", "dev", 108),
    ("questions_extra.json", "dev2", 177),
    ("questions_dev3.json", "dev3", 186),
    ("questions_dev4.json", "dev4", 146),
    ("questions_dev5.json", "dev5", 106),
    ("questions_dev6.json", "dev6", 111),
)


def development_questions(name: str, split: str) -> list[dict[str, Any]]:
    return [q for q in json.loads((HELDOUT / name).read_text(encoding="utf-8")) if q["split"] == split]


async def test_the_development_questions_score_at_least_the_figures_reached() -> None:
    story = json.loads((HELDOUT / "story.json").read_text(encoding="utf-8"))
    sets = [(split, development_questions(name, split), at_least) for name, split, at_least in AT_LEAST]

    answers = await answers_for(story, [q for _, questions, _ in sets for q in questions])

    for split, questions, at_least in sets:
        misses = [f"{q['id']} {q['question']!r}: {why}" for q in questions
                  for ok, why in [judge(answers[q["id"]], q["expect"])] if not ok]
        passed = len(questions) - len(misses)
        assert passed >= at_least, (f"{split} {passed} of {len(questions)}, below {at_least}:\n"
                                    + "\n".join(misses))
