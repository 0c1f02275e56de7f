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


# Words that ask for a stored fact (bot.stored.CONCEPTS) surely enough to win over the rest.
DETAIL_WORDS = ("owner", "owns", "owned", "responsible", "in charge", "contact", "ping", "talk to",
                "maintainer", "maintains", "zustaendig", "verantwortlich", "ansprechpartner",
                "host", "hostname", "machine", "server", "box", "worker", "instance", "rechner",
                "version", "release", "deployed", "triggered", "trigger", "commit", "git", "sha",
                "how big", "size", "mb", "gb", "megabytes", "time ?zone")

RUNTIME_LIMIT = (r"\ballowed to (run|take|last)\b", r"\bmax(imum)? (runtime|run time|duration)\b",
                 r"\btime ?limit\b", r"\b(may|can|should) (it )?(run|take)\b.*\b(long|max)",
                 r"\bhow long (may|can|should) (it|the \w+( \w+)?) (run|take)\b")
LAST = r"(last|past|previous|latest|recent|letzten?|vorigen?)"
COUNT_WORDS = "two|three|four|five|six|seven|eight|nine|ten|twenty|zwei|drei|vier|fuenf|sechs|zehn"
GOOD = ("good|successful|ok|okay|clean|green|complete|completed|proper|full|working|fine|"
        "erfolgreiche[rsn]?|gute[rsn]?|saubere[rsn]?")
GOOD_ADVERBS = "properly|successfully|correctly|cleanly|completely|fully"

# Words that set two things side by side ("faster on Monday than on Sunday").
COMPARE_WORDS = ("more", "less", "fewer", "higher", "lower", "faster", "slower", "quicker",
                 "longer", "shorter", "bigger", "smaller", "larger", "greater", "earlier",
                 "later", "better", "worse", "mehr", "weniger", "schneller", "langsamer",
                 "laenger", "kuerzer", "frueher", "spaeter")
COMPARE_TRIGGERS = (
    r"\bvs\b", r"\bversus\b", r"\bcompared?\b", r"\bcomparison\b", r"\bdifference\b",
    r"\bvergleich", r"\bverglichen\b", r"\bdiff\b",
    rf"\b(?:{'|'.join(COMPARE_WORDS)})\b.*\b(?:than|or|als|oder)\b",
    r"\b(?:night|day|week|run|time) before\b", r"\bprevious (?:run|night|day)\b",
    r"\b(?:same as|as many as|as much as|as long as)\b.*\b(?:before|previous|last)\b")

# "Anything running right now?": the jobs running, for all jobs when none is named.
RUNNING_NOW = (r"\b(anything|whats|what is|what s|which jobs?|what jobs?|any jobs?|how many jobs|"
               r"wie viele jobs)( are| is)?( still)? (running|going|in progress|active|laeuft|laufen)\b")

INTENTS = (
    Intent("help", 100, (r"^help\b", r"^(what can you do|commands|usage|how do i use)",
                         r"\bhelp me\b", r"^\?$"), about_a_job=False),
    Intent("jobs", 90, (r"\b(what|which) jobs\b(?! (are |is |have |did )?(still |now )?(running|going|"
                        r"active|in progress|late|behind|failing|failed|broken|stuck|due))",
                        r"\blist( the| all)? jobs\b",
                        r"\bjobs do you know\b", r"\bwhat do you (know|monitor|watch|track)\b",
                        r"\bknown jobs\b"), about_a_job=False),
    Intent("overview", 80, (r"\bstatus of (everything|all)\b",
                            r"\banything (late|broken|wrong|fail|behind|overdue|to worry|i need|off|"
                            r"unusual|odd|weird|strange)",
                            r"\b(did|has|is) (everything|all) (go|gone|went|run|been)\b",
                            r"\b(what|whats|which jobs?) (is |are )?(overdue|behind)\b",
                            r"\bworry\b",
                            r"\bis anything\b", r"\bwhat (is|s) (late|broken|failing|wrong)\b",
                            r"\bwhats? (late|broken|wrong)\b", r"\beverything (ok|okay|fine|good)\b",
                            r"\ball (jobs|good|ok|fine)\b", r"\boverview\b",
                            r"\bany (failures|problems|issues|errors|late)\b", r"\blate jobs\b",
                            r"\bwhat failed\b", r"\bwhich jobs (failed|are late)\b",
                            RUNNING_NOW, r"\bany ?(one|thing| job| jobs)? (fail|failed|break|broke|"
                            r"crash|crashed|error)", r"\b(did|has|have|were there) any\b",
                            r"\b(clean|smooth|quiet|issues|problems)\b", r"\balles\b",
                            r"\b(bei )?(den|die|all|unseren|our) jobs\b", r"^all (good|ok|fine|well)\b",
                            r"\bshould have (started|run|finished)\b",
                            r"\bacross (all|the|our|every)\b", r"\ball (six|\d+|the|of the) jobs\b",
                            r"\bhealth ?check\b", r"\b(was|were|is|are) (everything|all)\b",
                            r"\bwhose jobs? (is |are )?(broken|failing|failed|late|down|red)\b",
                            r"\b(didnt|did not|hasnt) (start|run)\b"),
           about_a_job=False),
    # Two days or runs side by side (bot.comparisons); asked only when it finds both sides.
    Intent("compare", 75, COMPARE_TRIGGERS),
    Intent("lateness", 72, (r"\bhow far behind\b", r"\bbehind\b", r"\blate\b", r"\boverdue\b",
                            r"\bon time\b(?! (percent|pct|rate|share|ratio))", r"\bdelayed\b",
                            r"\bverspaetet\b", r"\bpuenktlich\b", r"\bdelay\b",
                            r"\b(make|meet|hit|miss)\b.*\bdeadline\b", r"\bon track\b",
                            r"\bat (this|that|the current) (pace|rate|speed)\b")),
    Intent("eta", 70, (r"\bwhen will .+? (be )?(done|finish|finished|end|complete|ready)\b",
                       r"\bhow long (left|remaining|to go|until)\b", r"\beta\b", r"\bhow far\b",
                       r"\bprogress\b", r"\bwhen (is|s) it (done|ready)\b",
                       r"\bpercent (through|done|complete|finished)\b", r"\bhow far (along|through)\b",
                       r"\bexpected to (finish|end)\b",
                       r"\b(stage|phase)\b(?!.*\b(fail|stop|crash|error|broke)\w*)")),
    Intent("usual_duration", 65, (r"\b(usually|normally|typically) take\b",
                                  r"\bhow long does (it|the \w+( \w+)?) (usually |normally )?take\b",
                                  r"\b(usual|normal|typical|average) (duration|runtime|run time)\b",
                                  r"\bwie lange\b.*\b(normalerweise|meistens|ueblicherweise)\b")),
    # "How long is it allowed to run?": its definition's limit, not how long it took.
    Intent("schedule", 76, RUNTIME_LIMIT),
    Intent("duration", 60, (r"\bhow long\b", r"\bduration\b", r"\btook\b", r"\btake to run\b",
                            r"\bruntime\b", r"\brun time\b", r"\bwie lange\b",
                            r"\b(gedauert|dauert|dauer|laufzeit)\b", r"\bhow much time\b",
                            r"\btime (from|between|until|till)\b")),
    Intent("detail", 58, (*(rf"\b{w}\b" for w in DETAIL_WORDS), r"\bwho (do|should|can) i\b",
                          r"^(who|whos|whom|wer)\b", r"\blooks? after\b",
                          r"\bwho (kicked|started|triggered|launched|ran|gets|is)\b",
                          r"\b(started|triggered|kicked off|launched|run) (by|via|from|manually)\b",
                          r"\bby hand\b",
                          r"\bhow was (it|the \w+( \w+)?) (started|triggered|run)\b",
                          r"\bhow was\b.*\b(started|triggered|kicked off|launched)\b")),
    Intent("schedule", 54, (r"\bhow often (does|do|is|will)\b",
                            r"\bwhen (does|do|will|is) .*\b(run|start|kick|due|scheduled)\b",
                            r"\bnext (run|time)\b", r"\brun next\b", r"\bnaechste",
                            r"\bwhen (is|s) the next\b", r"^next\b", r"\bwhen the next\b",
                            r"\bby when\b", r"\bby what time\b",
                            r"\bwhat time (should|must|is|are)\b", r"\bstart ?times?\b(?! of (the|its) last)",
                            r"\bslack\b.*\bstart\b",
                            r"\b(have|has|need|needs) to be\b", r"\bdeadline\b",
                            r"\bschedul", r"\bcron\b", r"\bwhat times? (does|do|will|is|are)\b",
                            r"\bkicks? off\b",
                            r"\b(does|do) .*\brun (on|at|every)\b", r"\bsupposed to\b",
                            r"\bwann (laeuft|startet)\b", r"\bwie oft laeuft\b",
                            r"\bgoing to run\b", r"\b(will|gonna) (it|the \w+( \w+)?) (run|start)\b",
                            r"^is there an? \w+( \w+)? (on|at|every|in the|tonight|tomorrow)\b",
                            r"\bcrontab\b", r"\bstill to come\b", r"\b(left|remaining|to go) today\b",
                            r"\b(after|before) the \d{1,2}:\d{2} (one|run|sync)\b",
                            r"\b(does|do) (it|the \w+( \w+)?) (also )?run (at night|overnight|nachts)\b",
                            # not runs past: "how many times did it run on fridays"
                            r"^(?!.*\b(how many|did|has|have|hat)\b).*"
                            r"\b(runs?|running)\b.*\b(on )?(saturdays|sundays|weekends|mondays|tuesdays|"
                            r"wednesdays|thursdays|fridays|weekdays)\b",
                            *RUNTIME_LIMIT)),
    # Runs counted by how long they took or when they ended: "how many took longer than 20 min".
    Intent("runs", 77, (r"\b(how many|how often|wie viele|wie oft)\b.*\b(took|take|ran|run|lasted|"
                        r"last|finished|finish|ended|end|started|start|done|completed)\b.*\b(longer|"
                        r"shorter|more|less|over|under|after|before|later|earlier) (than )?"
                        r"(\d|an?\b|one\b|two\b)",)),
    Intent("runs", 52, (r"\bhow many times\b", r"\bhow often (did|has|have|was|were)\b",
                        r"\bhow many (\w+ ){0,2}(runs|failures|attempts|reruns)\b", r"\bwie oft\b",
                        r"\bnumber of (runs|failures)\b", r"\b(last|past|previous|latest|recent) "
                        r"(\d+|two|three|four|five|six|seven|eight|nine|ten) (\w+ )?runs\b",
                        r"\blast (good|successful|ok|clean|green) run\b", r"\bruns so far\b",
                        r"\b(list|show)( me)?( the| all)? runs\b",
                        r"\bwhen did .* last (succeed|work|run successfully)\b",
                        r"\b(how many|number of|wie viele|anzahl)\b.*\bruns?\b", r"^of\b.*\bruns\b",
                        rf"\b{LAST} (\d{{1,3}}|{COUNT_WORDS}) (?!(days?|weeks?|nights?|hours?|months?|"
                        r"tage|wochen|naechte|stunden|monate)\b)[a-z]",
                        r"\b(list|show|all)( me)?( the| all)?( \w+)?( \w+)? (runs|failures|fails|reruns)\b",
                        r"\b(list|show)( me)?( the| all)? (failed|failing|broken)\b",
                        r"\b(list|show)( me)?( every| each| all| the)? (failures?|fails|errors|problems)\b",
                        r"\b(which|what) days?\b.*\b(log|logged|warn|warned|fail|failed)\b",
                        r"\bruns (today|yesterday|this|last|since|over|on|in)\b",
                        r"\bwhen did .* last (fail|break|crash|error|go wrong)",
                        rf"\b(last|letzte[rsn]?) ({GOOD})\b", rf"\blast\b.*\b({GOOD_ADVERBS})\b",
                        rf"\blast (ran|run|went|finished|completed|worked) ({GOOD})\b",
                        rf"\bwhen did .* last (succeed|work|go ({GOOD}))")),
    Intent("output", 56, (r"\bproduce", r"\boutputs?\b", r"\bgenerat", r"\bend up\b",
                          r"\b(put|puts|save|saves|saved|store|stores|drop|drops|land)\b",
                          r"\bwhat did (it|the \w+"
                          r"( \w+)?) (write|create|make|publish|export)\b", r"\bresults?\b",
                          r"\b(write|wrote|written|writes|erzeugt|geschrieben|produziert)\b")),
    Intent("input", 55, (r"\b(which|what) (input )?files?\b", r"\binput\b",
                         r"\b(which|what)\b.*\bdid (it|the \w+( \w+)?) (read|load|pick up)\b",
                         r"\bsource file\b",
                         r"\bread from\b", r"\bdid it read\b", r"\bfile did\b", r"\bwhich feed\b",
                         r"\bwhat did (it|the \w+( \w+)?) (read|load|import)(?= *$| (on|in|at|from|"
                         r"yesterday|today|last|this|tonight|the|am|gestern|heute)\b)", r"\bdatei\b",
                         r"\b(gelesen|eingelesen|lesen)\b")),
    Intent("failure", 50, (r"\bwhy\b", r"\bwhat happened\b", r"\bwhat went wrong\b",
                           r"\bwhat (was|is|s) (wrong|the problem|the issue)\b",
                           r"\bwhich milestone\b", r"\bwhere did (it|the \w+( \w+)?) stop",
                           r"\bstopped\b", r"\berrors?\b", r"\bwarnings?\b", r"\bproblems?\b",
                           r"\bwhat broke\b", r"\bwhat failed\b", r"\bcause\b", r"\bwarum\b",
                           r"\bwieso\b", r"\bweshalb\b", r"\bwas ist passiert\b",
                           r"\b(step|stage|phase|point|milestone)\b.*\b(fail|stop|crash|br[eo]ak)\w*",
                           r"\b(anything|something|what) (was )?logged\b", r"\blogs?\b")),
    Intent("metric", 45, (r"\bhow (many|much)\b", r"\bnumber of\b", r"\bcount\b",
                          r"\b(is|was) (that|it|this) (normal|usual|ok|okay|expected)\b",
                          r"\bnormal\b", r"\bunusual\b")),
    # "What time did it start?": the run's own times, which its status answer gives first.
    Intent("status", 13, (r"^what time (did|does|was|is|has) .*\b(start|started|begin|began|kick|"
                          r"kicked|finish|finished|end|ended)\b",)),
    Intent("detail", 12, (r"^(which|what|whose|wer|welche\w*|auf welche\w*)\b",
                          r"\b(switch|switched|change|changed|upgrade|upgraded|moved) to\b")),
    Intent("status", 10, (r".",)),
)


def classify(text: str, *, names_a_job: bool, besides: str | None = None) -> Intent:
    """The intent of a normalized question. Questions that name a job are never answered
    with the all-jobs overview, and questions that name none fall back to it."""
    for intent in sorted(INTENTS, key=lambda i: -i.priority):
        if (intent.name == "overview" and names_a_job) or intent.name == besides:
            continue
        if intent.matches(text):
            return intent
    return INTENTS[-1]
