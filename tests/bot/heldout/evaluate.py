"""Score the bot on the held-out questions: the story told through the HTTP contract to a real
server (SQLite, 127.0.0.1), judged by the real watcher at the story's "now", each question
asked through the same engine the bot uses, at its own moment and in its asker's zone.

    python tests/bot/heldout/evaluate.py            # both figures; misses of the dev half only

The test half's misses are never printed: it is scored, not read, so nobody tunes on it.
The further development sets (`questions_extra.json`, "dev2", from make_questions_extra.py;
`questions_dev3.json`, "dev3", from make_questions_dev3.py; `questions_dev4.json`, "dev4", from
make_questions_dev4.py, `questions_dev5.json`, "dev5", from make_questions_dev5.py, and
`questions_dev6.json`, "dev6", from make_questions_dev6.py, the last three written in the style
and mix of kinds of the dev half) are asked in the same run, after the others, and scored with
their misses shown like dev's."""

import asyncio
import json
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))
sys.path.insert(0, str(HERE))

from score import judge  # noqa: E402

from alerts.watcher import Watcher  # noqa: E402
from bot.engine import Answerer  # noqa: E402
from opentrace.app import create_app  # noqa: E402
from opentrace.demo import serving  # noqa: E402
from opentrace.settings import Settings  # noqa: E402
from storage.models import Run  # noqa: E402

# Further development sets, each written later by a helper that never read the engine.
EXTRA_SETS = ("questions_extra.json", "questions_dev3.json", "questions_dev4.json",
              "questions_dev5.json", "questions_dev6.json")


@dataclass
class StoryClock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


async def answers_for(story: dict[str, Any], questions: list[dict[str, Any]]) -> dict[str, str]:
    events = sorted(story["events"], key=lambda e: e["at"])
    clock = StoryClock(datetime.fromisoformat(events[0]["at"]) - timedelta(days=1))
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(database_url=f"sqlite:///{folder}/heldout.db", auth=False, watch=False)
        app = create_app(settings, clock=clock)
        async with serving(app) as (url, engine), aiohttp.ClientSession(url) as http:
            for slug, definition in story["jobs"].items():
                async with http.put(f"/v1/jobs/{slug}", json=definition) as response:
                    assert response.status in (200, 201), await response.text()
            for event in events:  # one at a time, each when it happened
                clock.now = datetime.fromisoformat(event["at"])
                async with http.post("/v1/events", json=event) as response:
                    assert response.status == 202, await response.text()
            clock.now = datetime.fromisoformat(story["now"])
            watcher = Watcher(engine, clock=clock)
            await watcher.check_due()
            async with AsyncSession(engine) as session:
                run_ids = [i for i in (await session.exec(select(Run.id))).all() if i is not None]
            await watcher.judge_runs(run_ids)
            answerer = Answerer(engine, clock=clock)
            answers = {}
            for item in questions:
                clock.now = datetime.fromisoformat(item["asked_at"])
                reply = await answerer.reply(item["question"], timezone=item["tz"])
                answers[item["id"]] = reply.text
    return answers


def report(split: str, chosen: list[dict[str, Any]], answers: dict[str, str], misses: bool) -> None:
    """Print the figure of `chosen`, after its misses when `misses` (never for the test half)."""
    verdicts = [(q, *judge(answers[q["id"]], q["expect"])) for q in chosen]
    if misses:
        for q, ok, why in verdicts:
            if not ok:
                print(f"MISS {q['id']} [{q['kind']}] {q['question']!r}: {why}\n"
                      f"     answered: {(answers[q['id']].splitlines() or [''])[0][:200]!r}")
    passed = sum(ok for _, ok, _ in verdicts)
    print(f"{split}: {passed} of {len(chosen)} ({100 * passed / len(chosen):.1f}%)")


def main() -> int:
    story = json.loads((HERE / "story.json").read_text(encoding="utf-8"))
    questions = json.loads((HERE / "questions.json").read_text(encoding="utf-8"))
    extra = [question for name in EXTRA_SETS if (HERE / name).exists()
             for question in json.loads((HERE / name).read_text(encoding="utf-8"))]
    assert not {q["id"] for q in questions} & {q["id"] for q in extra}, "question ids collide"
    answers = asyncio.run(answers_for(story, questions + extra))  # one run, extra asked last
    for split in ("dev", "test"):
        report(split, [q for q in questions if q["split"] == split], answers, misses=split == "dev")
    for split in dict.fromkeys(q["split"] for q in extra):
        report(split, [q for q in extra if q["split"] == split], answers, misses=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
