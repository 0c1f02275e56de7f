"""What is usual for a job, from its own recent successful runs: robust statistics that one
odd night cannot drag along (median and MAD, not mean and standard deviation)."""

from dataclasses import dataclass
from statistics import median

MIN_RUNS = 3  # fewer than this and "usually" would be a guess


@dataclass(frozen=True)
class Usual:
    """A value's usual range from the job's recent successful runs."""

    median: float
    low: float
    high: float
    runs: int


def usual(values: list[float]) -> Usual | None:
    if len(values) < MIN_RUNS:
        return None
    return Usual(median=median(values), low=min(values), high=max(values), runs=len(values))


def is_unusual(value: float, values: list[float]) -> bool:
    """Far outside the usual range: more than 3 scaled MADs from the median, and by a margin
    that matters (a quarter of the median) so that flat histories do not flag noise."""
    if len(values) < MIN_RUNS:
        return False
    centre = median(values)
    spread = 1.4826 * median([abs(v - centre) for v in values])
    margin = max(3 * spread, 0.25 * abs(centre), 1.0)
    return abs(value - centre) > margin
