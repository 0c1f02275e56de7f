"""A time zone the question asks to be answered in: "in New York time", "what time in IST",
"Berlin time", "UTC". It wins over the asker's own zone for that answer."""

import re
from zoneinfo import ZoneInfo

# Places and abbreviations people name a zone by, in the words of a normalized question.
NAMED_ZONES = {
    "utc": "UTC", "gmt": "UTC", "zulu": "UTC",
    "new york": "America/New_York", "ny": "America/New_York", "nyc": "America/New_York",
    "eastern": "America/New_York", "est": "America/New_York", "edt": "America/New_York",
    "et": "America/New_York", "east coast": "America/New_York",
    "chicago": "America/Chicago", "central": "America/Chicago", "cst": "America/Chicago",
    "cdt": "America/Chicago", "denver": "America/Denver", "mountain": "America/Denver",
    "los angeles": "America/Los_Angeles", "la": "America/Los_Angeles", "pacific": "America/Los_Angeles",
    "pst": "America/Los_Angeles", "pdt": "America/Los_Angeles", "pt": "America/Los_Angeles",
    "west coast": "America/Los_Angeles", "california": "America/Los_Angeles",
    "sao paulo": "America/Sao_Paulo", "brazil": "America/Sao_Paulo",
    "berlin": "Europe/Berlin", "german": "Europe/Berlin", "germany": "Europe/Berlin",
    "cet": "Europe/Berlin", "cest": "Europe/Berlin", "deutscher": "Europe/Berlin",
    "deutsche": "Europe/Berlin", "hamburg": "Europe/Berlin", "munich": "Europe/Berlin",
    "muenchen": "Europe/Berlin", "frankfurt": "Europe/Berlin",
    "london": "Europe/London", "uk": "Europe/London", "british": "Europe/London",
    "bst": "Europe/London", "paris": "Europe/Paris", "madrid": "Europe/Madrid",
    "rome": "Europe/Rome", "italy": "Europe/Rome", "amsterdam": "Europe/Amsterdam",
    "warsaw": "Europe/Warsaw", "poland": "Europe/Warsaw", "zurich": "Europe/Zurich",
    "vienna": "Europe/Vienna", "wien": "Europe/Vienna", "stockholm": "Europe/Stockholm",
    "india": "Asia/Kolkata", "ist": "Asia/Kolkata", "indian": "Asia/Kolkata",
    "kolkata": "Asia/Kolkata", "mumbai": "Asia/Kolkata", "bangalore": "Asia/Kolkata",
    "bengaluru": "Asia/Kolkata", "delhi": "Asia/Kolkata", "pune": "Asia/Kolkata",
    "dubai": "Asia/Dubai", "gulf": "Asia/Dubai", "singapore": "Asia/Singapore",
    "sgt": "Asia/Singapore", "tokyo": "Asia/Tokyo", "japan": "Asia/Tokyo", "jst": "Asia/Tokyo",
    "shanghai": "Asia/Shanghai", "china": "Asia/Shanghai", "hong kong": "Asia/Hong_Kong",
    "sydney": "Australia/Sydney", "aest": "Australia/Sydney", "melbourne": "Australia/Melbourne",
}
_NAMES = "|".join(sorted((re.escape(n) for n in NAMED_ZONES), key=len, reverse=True))
# "in New York time", "New York time", "in IST", "Berlin time", "UTC time", "in utc"; a bare
# place ("the Berlin office") is not a zone.
ASKED_ZONE = re.compile(rf"\b(?:in|for|as|nach|auf) (?P<a>{_NAMES})(?: time| zeit)?\b"
                        rf"|\b(?P<b>{_NAMES}) (?:time|zeit)\b")
ABBREVIATIONS = frozenset({"utc", "gmt", "est", "edt", "cst", "cdt", "pst", "pdt", "cet", "cest",
                           "ist", "bst", "sgt", "jst", "aest"})


def asked_zone(text: str) -> ZoneInfo | None:
    """The zone a normalized question asks its times in, or None."""
    for match in ASKED_ZONE.finditer(text):
        name = match["a"] or match["b"]
        # "in la" or "in ny" are places, not zones, unless followed by "time".
        if match["a"] and len(name) <= 2 and not match.group().endswith(("time", "zeit")):
            continue
        if match["a"] and name not in ABBREVIATIONS and " " not in name and not \
                match.group().endswith(("time", "zeit")) and name not in ("utc",):
            continue  # "in berlin" alone is where, not which clock
        return ZoneInfo(NAMED_ZONES[name])
    return None
