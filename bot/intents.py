"""What a question asks for. Each intent is a small documented rule with a priority; the
highest-priority intent whose triggers match wins, so adding one never reorders the rest."""

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Intent:
    name: str
    priority: int
    triggers: tuple[str, ...]  # regular expressions over the normalized question
    about_a_job: bool = True  # False: answered for all jobs when no job is named

    def matches(self, text: str) -> bool:
        return any(re.search(t, text) for t in self.triggers)


INTENTS = (
    Intent("help", 100, (r"^help\b", r"^(what can you do|commands|usage|how do i use)",
                         r"\bhelp me\b", r"^\?$"), about_a_job=False),
    Intent("jobs", 90, (r"\b(what|which) jobs\b", r"\blist( the| all)? jobs\b",
                        r"\bjobs do you know\b", r"\bwhat do you (know|monitor|watch|track)\b",
                        r"\bknown jobs\b"), about_a_job=False),
    Intent("overview", 80, (r"\bstatus of (everything|all)\b", r"\banything (late|broken|wrong|fail)",
                            r"\bis anything\b", r"\bwhat (is|s) (late|broken|failing|wrong)\b",
                            r"\bwhats? (late|broken|wrong)\b", r"\beverything (ok|okay|fine|good)\b",
                            r"\ball (jobs|good|ok|fine)\b", r"\boverview\b",
                            r"\bany (failures|problems|issues|errors|late)\b", r"\blate jobs\b",
                            r"\bwhat failed\b", r"\bwhich jobs (failed|are late)\b"),
           about_a_job=False),
    Intent("eta", 70, (r"\bwhen will .+? (be )?(done|finish|finished|end|complete|ready)\b",
                       r"\bhow long (left|remaining|to go|until)\b", r"\beta\b", r"\bhow far\b",
                       r"\bprogress\b", r"\bwhen (is|s) it (done|ready)\b",
                       r"\bexpected to (finish|end)\b")),
    Intent("usual_duration", 65, (r"\b(usually|normally|typically) take\b",
                                  r"\bhow long does (it|the \w+( \w+)?) (usually |normally )?take\b",
                                  r"\b(usual|normal|typical|average) (duration|runtime|run time)\b")),
    Intent("duration", 60, (r"\bhow long\b", r"\bduration\b", r"\btook\b", r"\btake to run\b",
                            r"\bruntime\b", r"\brun time\b")),
    Intent("input", 55, (r"\b(which|what) (input )?files?\b", r"\binput\b", r"\bsource file\b",
                         r"\bread from\b", r"\bdid it read\b", r"\bfile did\b", r"\bwhich feed\b",
                         r"\bwhat did (it|the \w+( \w+)?) (read|load|import)\b")),
    Intent("output", 55, (r"\bproduce", r"\boutputs?\b", r"\bgenerat", r"\bwhat did (it|the \w+"
                          r"( \w+)?) (write|create|make|publish|export)\b", r"\bresults?\b")),
    Intent("failure", 50, (r"\bwhy\b", r"\bwhat happened\b", r"\bwhat went wrong\b",
                           r"\bwhich milestone\b", r"\bwhere did (it|the \w+( \w+)?) stop",
                           r"\bstopped\b", r"\berrors?\b", r"\bwarnings?\b", r"\bproblems?\b",
                           r"\bwhat broke\b", r"\bwhat failed\b", r"\bcause\b")),
    Intent("metric", 45, (r"\bhow (many|much)\b", r"\bnumber of\b", r"\bcount\b",
                          r"\b(is|was) (that|it|this) (normal|usual|ok|okay|expected)\b",
                          r"\bnormal\b", r"\bunusual\b")),
    Intent("status", 10, (r".",)),
)


def classify(text: str, *, names_a_job: bool) -> Intent:
    """The intent of a normalized question. Questions that name a job are never answered
    with the all-jobs overview, and questions that name none fall back to it."""
    for intent in sorted(INTENTS, key=lambda i: -i.priority):
        if intent.name == "overview" and names_a_job:
            continue
        if intent.matches(text):
            return intent
    return INTENTS[-1]
