"""A ratchet on understanding: the development half of the held-out questions
(tests/bot/heldout/), told and asked through the evaluator's own machinery, must score at
least the figure reached so far. The test half is never asked here: it is scored only by
evaluate.py, so nobody tunes on it."""

import json
import sys
from pathlib import Path

HELDOUT = Path(__file__).with_name("heldout")
sys.path.insert(0, str(HELDOUT))

from evaluate import answers_for  # noqa: E402
from score import judge  # noqa: E402

# Raise this when understanding improves; never lower it to make a change pass.
DEV_AT_LEAST = 108


async def test_the_development_half_scores_at_least_the_figure_reached() -> None:
    story = json.loads((HELDOUT / "story.json").read_text(encoding="utf-8"))
    questions = [q for q in json.loads((HELDOUT / "questions.json").read_text(encoding="utf-8"))
                 if q["split"] == "dev"]

    answers = await answers_for(story, questions)

    misses = [f"{q['id']} {q['question']!r}: {why}" for q in questions
              for ok, why in [judge(answers[q["id"]], q["expect"])] if not ok]
    passed = len(questions) - len(misses)
    assert passed >= DEV_AT_LEAST, (f"dev {passed} of {len(questions)}, below {DEV_AT_LEAST}:\n"
                                    + "\n".join(misses))
