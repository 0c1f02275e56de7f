"""People name the runs they ask about the way they type dates: "the 18th", "25.11.", "11/25",
"Friday night", "over the weekend", "vorgestern", "from Monday to Wednesday", "the 02:00 run".

Each story fixes "now" and the asker's zone, normalizes the question as the engine does, and
checks the period the engine will look for runs in. Most are told on the seed story's
morning, Wednesday 25 November 2026, 08:00 in Berlin; others in the weeks the clocks change,
in Berlin and in New York."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.language import correct, normalize, words
from bot.periods import TIME_WORDS, Period, find_period, find_run_time

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=BERLIN)  # a Wednesday
# Words the engine corrects typos towards, besides the time words: enough to show that the
# corrector leaves dates alone.
VOCABULARY = [*TIME_WORDS, "import", "export", "run", "running", "finished", "failed", "there",
              "these", "rows", "skipped", "report", "taken", "take", "between"]


def period(question: str, now: datetime = NOW, zone: ZoneInfo = BERLIN) -> Period | None:
    text = " ".join(correct(words(normalize(question)), VOCABULARY))
    return find_period(text, now, zone)


def found_in(question: str, now: datetime = NOW, zone: ZoneInfo = BERLIN) -> Period:
    found = period(question, now, zone)
    assert found is not None, question
    return found


def hours(p: Period) -> float:
    return (p.end.astimezone(UTC) - p.start.astimezone(UTC)).total_seconds() / 3600


def nov(day: int) -> date:
    return date(2026, 11, day)


# --- one day -----------------------------------------------------------------------------------

ONE_DAY = [
    # the day of the month: the most recent one, last month's when this month's is to come
    ("did the import run on the 18th?", "on Wednesday 18 Nov", nov(18)),
    ("what happened on the 3rd", "on Tuesday 3 Nov", nov(3)),
    ("how many rows were skipped 18th", "on Wednesday 18 Nov", nov(18)),
    ("did it run on the 25th", "today", nov(25)),
    ("did it run the 28th", "on Wednesday 28 Oct", date(2026, 10, 28)),
    ("did it run on the 31st", "on Saturday 31 Oct", date(2026, 10, 31)),
    # dates as people type them
    ("did it run on 24.11.?", "on Tuesday 24 Nov", nov(24)),
    ("did it run on 24.11", "on Tuesday 24 Nov", nov(24)),
    ("lief der Import am 25.11.", "today", nov(25)),
    ("did it run on 20.11.2026", "on Friday 20 Nov", nov(20)),
    ("did it run on 20.11.26", "on Friday 20 Nov", nov(20)),
    ("did it run 11/24", "on Tuesday 24 Nov", nov(24)),
    ("did it run 24/11", "on Tuesday 24 Nov", nov(24)),
    ("did it run on 2026-11-24", "on Tuesday 24 Nov", nov(24)),
    ("did it run on Nov 15", "on Sunday 15 Nov", nov(15)),
    ("did it run on 15 Nov", "on Sunday 15 Nov", nov(15)),
    ("did it run on November 15th", "on Sunday 15 Nov", nov(15)),
    ("did it run on the 15th of November", "on Sunday 15 Nov", nov(15)),
    ("lief er am 15. November", "on Sunday 15 Nov", nov(15)),
    ("did it run on 24 Dec", "on Wednesday 24 Dec 2025", date(2025, 12, 24)),
    ("did it run on may 3rd", "on Sunday 3 May", date(2026, 5, 3)),
    ("did it run on 3 may", "on Sunday 3 May", date(2026, 5, 3)),
    # weekdays: the most recent one ("Friday" on a Wednesday is last Friday)
    ("did the import run on monday", "on Monday 23 Nov", nov(23)),
    ("Monday?", "on Monday 23 Nov", nov(23)),
    ("did it run on Friday", "on Friday 20 Nov", nov(20)),
    ("did it run last Friday", "on Friday 20 Nov", nov(20)),
    ("did it run this Monday", "on Monday 23 Nov", nov(23)),
    ("did it run wednesday", "today", nov(25)),
    ("did it run last wednesday", "on Wednesday 18 Nov", nov(18)),
    ("did it run on sat", "on Saturday 21 Nov", nov(21)),
    ("did it run on tuseday", "on Tuesday 24 Nov", nov(24)),  # a typo the corrector fixes
    # relative
    ("did it run 2 days ago", "on Monday 23 Nov", nov(23)),
    ("did it run three days ago", "on Sunday 22 Nov", nov(22)),
    ("did it run a week ago", "on Wednesday 18 Nov", nov(18)),
    ("did it run the day before yesterday", "on Monday 23 Nov", nov(23)),
    ("did it run today", "today", nov(25)),
    ("did it run yesterday", "yesterday", nov(24)),
    # German
    ("lief der Import heute?", "today", nov(25)),
    ("lief der Import gestern?", "yesterday", nov(24)),
    ("und vorgestern?", "on Monday 23 Nov", nov(23)),
    ("vor 3 Tagen", "on Sunday 22 Nov", nov(22)),
    ("vor drei Tagen", "on Sunday 22 Nov", nov(22)),
    ("vor einer Woche", "on Wednesday 18 Nov", nov(18)),
    ("lief er am Montag", "on Monday 23 Nov", nov(23)),
    ("lief er am Sonntag", "on Sunday 22 Nov", nov(22)),
    ("lief er letzten Freitag", "on Friday 20 Nov", nov(20)),
    ("Dienstag", "on Tuesday 24 Nov", nov(24)),
    ("Mittwoch", "today", nov(25)),
    ("Donnerstag", "on Thursday 19 Nov", nov(19)),
    ("Samstag", "on Saturday 21 Nov", nov(21)),
]


@pytest.mark.parametrize(("question", "label", "day"), ONE_DAY)
def test_it_reads_a_day_as_people_type_it(question: str, label: str, day: date) -> None:
    found = period(question)
    assert found is not None, question
    assert (found.label, found.days) == (label, (day,))
    assert found.start == datetime(day.year, day.month, day.day, tzinfo=BERLIN)
    assert found.end == found.start + timedelta(days=1)


@pytest.mark.parametrize(("month", "number"), [
    ("Januar", 1), ("Februar", 2), ("März", 3), ("Maerz", 3), ("Mai", 5), ("Juni", 6),
    ("Juli", 7), ("Oktober", 10), ("Dezember", 12)])
def test_it_knows_the_german_months(month: str, number: int) -> None:
    found = period(f"lief der Import am 3. {month}?")
    assert found is not None
    year = 2026 if number <= 11 else 2025  # 3 December is still to come: last year's
    assert found.days == (date(year, number, 3),)


# --- several days ------------------------------------------------------------------------------

SEVERAL_DAYS = [
    ("did it fail last week", "last week", nov(16), nov(22)),
    ("gab es letzte Woche Fehler", "last week", nov(16), nov(22)),
    ("did it run every day this week", "this week", nov(23), nov(25)),
    ("diese Woche", "this week", nov(23), nov(25)),
    ("did it fail in the past 3 days", "in the past 3 days", nov(23), nov(25)),
    ("how often did it fail in the last 7 days", "in the last 7 days", nov(19), nov(25)),
    ("has it failed since Monday", "since Monday 23 Nov", nov(23), nov(25)),
    ("seit Montag", "since Monday 23 Nov", nov(23), nov(25)),
    ("did it fail this month", "this month", nov(1), nov(25)),
    ("did it fail last month", "last month", date(2026, 10, 1), date(2026, 10, 31)),
    ("did it run this weekend", "over the weekend of 21–22 Nov", nov(21), nov(22)),
    ("did it run last weekend", "over the weekend of 21–22 Nov", nov(21), nov(22)),
    ("did anything fail over the weekend", "over the weekend of 21–22 Nov", nov(21), nov(22)),
    ("lief er am Wochenende", "over the weekend of 21–22 Nov", nov(21), nov(22)),
    ("übers Wochenende", "over the weekend of 21–22 Nov", nov(21), nov(22)),
    ("did it run from Monday to Wednesday", "between Mon 23 Nov and Wed 25 Nov", nov(23), nov(25)),
    ("did it run from Friday to Monday", "between Fri 20 Nov and Mon 23 Nov", nov(20), nov(23)),
    ("did it fail between the 20th and the 22nd", "between Fri 20 Nov and Sun 22 Nov", nov(20),
     nov(22)),
    ("vom 20.11. bis 22.11.", "between Fri 20 Nov and Sun 22 Nov", nov(20), nov(22)),
    ("zwischen Montag und Mittwoch", "between Mon 23 Nov and Wed 25 Nov", nov(23), nov(25)),
]


@pytest.mark.parametrize(("question", "label", "first", "last"), SEVERAL_DAYS)
def test_it_reads_several_days(question: str, label: str, first: date, last: date) -> None:
    found = period(question)
    assert found is not None, question
    assert found.label == label
    assert (found.days[0], found.days[-1], len(found.days)) == (first, last, (last - first).days + 1)
    assert found.start == datetime(first.year, first.month, first.day, tzinfo=BERLIN)
    assert found.end == datetime(last.year, last.month, last.day, tzinfo=BERLIN) + timedelta(days=1)


def test_a_range_whose_start_is_to_come_ends_on_its_most_recent_end() -> None:
    """Asked on a Tuesday, "from Monday to Wednesday" is last week's Monday to Wednesday: the
    end is the most recent Wednesday, the start the Monday before it."""
    tuesday = datetime(2026, 11, 24, 9, 0, tzinfo=BERLIN)
    found = period("did it run from monday to wednesday", tuesday)
    assert found is not None
    assert (found.days[0], found.days[-1]) == (nov(16), nov(18))


def test_last_weekend_asked_at_the_weekend_is_the_one_before() -> None:
    sunday = datetime(2026, 11, 22, 10, 0, tzinfo=BERLIN)
    assert found_in("this weekend", sunday).days == (nov(21), nov(22))
    assert found_in("last weekend", sunday).days == (nov(14), nov(15))


# --- nights and mornings -----------------------------------------------------------------------

@pytest.mark.parametrize("question", [
    "how many rows were skipped last night", "did the import run tonight", "did it fail overnight",
    "lief der Import letzte Nacht", "lief der Import heute Nacht", "und gestern Abend?"])
def test_last_night_runs_from_yesterday_evening_to_noon(question: str) -> None:
    found = period(question)
    assert found is not None
    assert found.label == "last night"
    assert (found.start, found.end) == (datetime(2026, 11, 24, 18, tzinfo=BERLIN),
                                        datetime(2026, 11, 25, 12, tzinfo=BERLIN))
    assert found.days == (nov(24), nov(25))


@pytest.mark.parametrize("question", ["did it run friday night", "last friday night?",
                                      "lief er Freitagnacht"])
def test_a_weekday_night_starts_that_evening(question: str) -> None:
    found = period(question)
    assert found is not None
    assert found.label == "on the night of Friday 20 Nov"
    assert (found.start, found.end) == (datetime(2026, 11, 20, 18, tzinfo=BERLIN),
                                        datetime(2026, 11, 21, 12, tzinfo=BERLIN))


def test_tonight_that_has_not_begun_is_last_weeks() -> None:
    """On a Friday morning "Friday night" is last week's: tonight's has not begun."""
    friday_morning = datetime(2026, 11, 27, 9, 0, tzinfo=BERLIN)
    found = period("friday night", friday_morning)
    assert found is not None and found.days[0] == nov(20)
    friday_evening = datetime(2026, 11, 27, 21, 0, tzinfo=BERLIN)
    found = period("friday night", friday_evening)
    assert found is not None and found.days[0] == nov(27)


@pytest.mark.parametrize("question", ["did it run this morning", "heute morgen"])
def test_this_morning_is_midnight_to_noon(question: str) -> None:
    found = period(question)
    assert found is not None
    assert found.label == "this morning"
    assert (found.start, found.end) == (datetime(2026, 11, 25, tzinfo=BERLIN),
                                        datetime(2026, 11, 25, 12, tzinfo=BERLIN))


# --- a run named by its start time -------------------------------------------------------------

@pytest.mark.parametrize(("question", "label", "at", "day"), [
    ("did the 02:00 run finish", "at 02:00 today", time(2), nov(25)),
    ("did the run at 2am finish", "at 02:00 today", time(2), nov(25)),
    ("did the 2 am import fail", "at 02:00 today", time(2), nov(25)),
    ("did the import run at 14:30 yesterday", "at 14:30 yesterday", time(14, 30), nov(24)),
    ("did the 2am run last friday fail", "at 02:00 on Friday 20 Nov", time(2), nov(20)),
    ("did the 02:00 run finish last night", "at 02:00 last night", time(2), nov(25)),
    ("the 11pm run last night", "at 23:00 last night", time(23), nov(24)),
    ("the 2:30pm run on the 18th", "at 14:30 on Wednesday 18 Nov", time(14, 30), nov(18)),
    ("the 7 o'clock run", "at 07:00 today", time(7), nov(25)),
    ("the 09:00 run", "at 09:00 yesterday", time(9), nov(24)),  # today's is still to come
])
def test_a_run_named_by_its_start_time(question: str, label: str, at: time, day: date) -> None:
    """The period is narrowed to when that run started: 15 min before to 45 min after."""
    found = period(question)
    assert found is not None
    assert (found.label, found.at_time, found.days) == (label, at, (day,))
    assert found.start == datetime.combine(day, at, tzinfo=BERLIN) - timedelta(minutes=15)
    assert found.end == datetime.combine(day, at, tzinfo=BERLIN) + timedelta(minutes=45)


def test_a_start_time_over_several_days_keeps_the_days() -> None:
    """ "the 02:00 runs over the weekend": the caller keeps the runs started near 02:00."""
    found = period("did the 02:00 run fail over the weekend")
    assert found is not None
    assert (found.days, found.at_time) == ((nov(21), nov(22)), time(2))
    assert found.start == datetime(2026, 11, 21, tzinfo=BERLIN)


@pytest.mark.parametrize("question", [
    "was it still running at 3am", "did the import fail at 3am", "did the 3 runs fail",
    "did the import finish by 06:00", "how many rows did the last 3 runs skip"])
def test_a_time_that_names_no_run(question: str) -> None:
    assert find_run_time(normalize(question)) is None


# --- the weeks the clocks change -------------------------------------------------------------

AUTUMN = datetime(2026, 10, 27, 8, 0, tzinfo=BERLIN)  # Tuesday after clocks went back on Sunday
SPRING = datetime(2026, 3, 30, 8, 0, tzinfo=BERLIN)  # Monday after clocks went forward


def test_the_weekend_the_clocks_go_back_lasts_49_hours() -> None:
    found = period("did anything fail over the weekend", AUTUMN)
    assert found is not None
    assert found.label == "over the weekend of 24–25 Oct"
    assert found.start.isoformat() == "2026-10-24T00:00:00+02:00"
    assert found.end.isoformat() == "2026-10-26T00:00:00+01:00"
    assert hours(found) == 49


def test_the_day_the_clocks_go_back_lasts_25_hours() -> None:
    assert hours(found_in("the 25th", AUTUMN)) == 25
    assert hours(found_in("on sunday", AUTUMN)) == 25
    assert hours(found_in("last week", AUTUMN)) == 7 * 24 + 1


def test_the_repeated_0230_run_is_found_at_either_0230() -> None:
    found = period("did the 02:30 run on sunday finish", AUTUMN)
    assert found is not None
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 summer time
    second = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 again, winter time
    assert found.covers(first) and found.covers(second)
    assert not found.covers(datetime(2026, 10, 25, 3, 0, tzinfo=UTC))


def test_the_skipped_0230_run_is_found_just_after_the_gap() -> None:
    """02:30 does not exist on 29 March: the job ran at 03:00 summer time."""
    found = period("did the 02:30 run yesterday finish", SPRING)
    assert found is not None
    assert found.covers(datetime(2026, 3, 29, 3, 0, tzinfo=BERLIN))
    assert found.covers(datetime(2026, 3, 29, 1, 0, tzinfo=UTC))


def test_the_day_and_the_night_the_clocks_go_forward() -> None:
    assert hours(found_in("yesterday", SPRING)) == 23
    night = period("saturday night", SPRING)
    assert night is not None
    assert night.start.isoformat() == "2026-03-28T18:00:00+01:00"
    assert night.end.isoformat() == "2026-03-29T12:00:00+02:00"
    assert hours(night) == 17


# --- in New York -------------------------------------------------------------------------------

NY_MONDAY = datetime(2026, 11, 2, 9, 0, tzinfo=NEW_YORK)  # the day after clocks went back


@pytest.mark.parametrize(("question", "day"), [
    ("did it run 11/1", nov(1)), ("did it run on 1/11", date(2026, 1, 11)),
    ("did it run on 11/01/2026", nov(1)), ("did it run on 5/11", date(2026, 5, 11)),
    ("did it run on sunday", nov(1)), ("did it run yesterday", nov(1))])
def test_in_new_york_a_slashed_date_is_month_first(question: str, day: date) -> None:
    found = period(question, NY_MONDAY, NEW_YORK)
    assert found is not None and found.days == (day,)


def test_elsewhere_a_slashed_date_is_day_first() -> None:
    assert found_in("did it run on 5/11").days == (nov(5),)


def test_the_new_york_weekend_across_two_months_and_a_clock_change() -> None:
    found = period("this weekend", NY_MONDAY, NEW_YORK)
    assert found is not None
    assert found.label == "over the weekend of 31 Oct – 1 Nov"
    assert found.start.isoformat() == "2026-10-31T00:00:00-04:00"
    assert found.end.isoformat() == "2026-11-02T00:00:00-05:00"
    assert hours(found) == 49


def test_the_new_york_range_and_the_repeated_0130() -> None:
    found = period("did it fail between 10/30 and 11/1", NY_MONDAY, NEW_YORK)
    assert found is not None
    assert found.label == "between Fri 30 Oct and Sun 1 Nov"
    run = period("the run at 1:30am yesterday", NY_MONDAY, NEW_YORK)
    assert run is not None
    assert run.covers(datetime(2026, 11, 1, 5, 30, tzinfo=UTC))  # 01:30 EDT
    assert run.covers(datetime(2026, 11, 1, 6, 30, tzinfo=UTC))  # 01:30 EST


def test_today_is_the_askers_day() -> None:
    """03:00 in Berlin is still yesterday evening in New York."""
    now = datetime(2026, 11, 25, 3, 0, tzinfo=BERLIN)
    assert found_in("today", now, NEW_YORK).days == (nov(24),)
    assert found_in("today", now, BERLIN).days == (nov(25),)


# --- words that only look like dates -----------------------------------------------------------

@pytest.mark.parametrize("question", [
    "what were the top 10 products", "which version 2.11 rows failed", "is it on version 2.11.",
    "did release 11/25 go out", "what did v11/25 produce", "may I ask if the import ran",
    "the import may be late", "how many of the 3 may fail", "did the 2nd run fail",
    "was the 3rd milestone reached", "did the 1st attempt fail", "is it 24/7", "the job sat idle",
    "did it run in the sun",
    "it took 1.5 hours", "were 3/4 of the rows skipped", "how many rows did the last 3 runs skip",
    "how long has it taken", "are there three jobs", "what jobs do you know", "help",
    "did the nightly product import run", "how many rows 12 10"])
def test_it_does_not_misread_numbers_and_words_as_dates(question: str) -> None:
    assert period(question) is None


# --- what normalizing keeps --------------------------------------------------------------------

@pytest.mark.parametrize(("typed", "normalized"), [
    ("Did it run on 25.11.?", "did it run on 25.11."),
    ("am 25.11.2026", "am 25.11.2026"),
    ("did it run 11/25?", "did it run 11/25"),
    ("on 2026-11-25", "on 2026-11-25"),
    ("did the 02:00 run finish?", "did the 02:00 run finish"),
    ("the run at 2:30pm", "the run at 2:30pm"),
    ("on 25.11", "on 25.11"),
    ("version 2.11", "version 2 11"),  # as before: not a date
    ("v11/25", "v11 25"),
    ("products-2026-11-23.csv", "products 2026 11 23 csv"),
    ("15. März", "15 maerz"),
    ("@OpenTrace did last night's import run?", "did last night import run"),
])
def test_normalizing_keeps_dates_and_times_whole(typed: str, normalized: str) -> None:
    assert normalize(typed) == normalized


def test_the_corrector_keeps_time_words_and_fixes_their_typos() -> None:
    typed = "did it run vorgesten or on novmber 15 or over the wochenedne on 25.11. at 02:00"
    assert " ".join(correct(words(normalize(typed)), VOCABULARY)) == \
        "did it run vorgestern or on november 15 or over the wochenende on 25.11. at 02:00"
    kept = "three days ago heute gestern letzte woche montag dienstag oktober dezember 18th"
    assert correct(words(kept), VOCABULARY) == words(kept)


@pytest.mark.parametrize(("question", "weekdays", "label"), [
    ("how many times did the export run on fridays", {4}, "on Fridays"),
    ("how many friday customs runs have there been", {4}, "on Fridays"),
    ("did the audit ever fail on a weekend?", {5, 6}, "on weekends"),
    ("every monday, how long did it take", {0}, "on Mondays"),
])
def test_a_day_of_the_week_named_for_every_week(question: str, weekdays: set[int], label: str) -> None:
    found = found_in(question)

    assert found.weekdays == weekdays and found.label == label
    assert found.days and {day.weekday() for day in found.days} == weekdays
    assert found.days[-1] <= NOW.date() and found.end == datetime(2026, 11, 26, tzinfo=BERLIN)
    assert found.covers(datetime(2026, 11, 20, 22, 30, tzinfo=BERLIN)) == (4 in weekdays)
    # The day of the week is the asker's: Friday 23:30 UTC is already Saturday in Berlin.
    assert found.covers(datetime(2026, 11, 20, 23, 30, tzinfo=UTC)) == (5 in weekdays)


def test_one_friday_is_still_the_last_friday() -> None:
    found = found_in("did the export run on friday?")

    assert found.weekdays == frozenset() and found.days == (date(2026, 11, 20),)


def test_another_form_of_a_known_word_is_no_typo() -> None:
    known = [*VOCABULARY, "updated", "shipments"]

    assert correct(["updates", "shipment", "updaetd"], known) == ["updates", "shipment", "updated"]


@pytest.mark.parametrize(("question", "monday", "last"), [
    ("anything fail in week 46?", date(2026, 11, 9), date(2026, 11, 15)),
    ("status kw 47", date(2026, 11, 16), date(2026, 11, 22)),
    ("the 2026-W48 runs", date(2026, 11, 23), date(2026, 11, 25)),  # the week so far
    ("how did week 52 go", date(2025, 12, 22), date(2025, 12, 28)),  # not begun: last year's
])
def test_a_week_named_by_its_iso_number(question: str, monday: date, last: date) -> None:
    found = found_in(question)

    assert (found.days[0], found.days[-1]) == (monday, last)
    assert found.label.startswith(f"in week {monday.isocalendar().week} (")
