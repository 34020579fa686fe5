"""Sizes, durations and ids as the docker CLI writes them (go-units' own test values), pure."""
from __future__ import annotations

import pytest

from nbdocker.units import ago, human_duration, human_size, short_id

KB, MB, GB, TB, PB = 1e3, 1e6, 1e9, 1e12, 1e15
SECOND, MINUTE, HOUR = 1, 60, 3600
DAY = 24 * HOUR
WEEK, MONTH, YEAR = 7 * DAY, 30 * DAY, 365 * DAY


@pytest.mark.parametrize("size, text", [
    # go-units TestHumanSize (HumanSize is precision 4)
    (1000, "1kB"), (1024, "1.024kB"), (1000000, "1MB"), (1048576, "1.049MB"), (2 * MB, "2MB"),
    (3.42 * GB, "3.42GB"), (5.372 * TB, "5.372TB"), (2.22 * PB, "2.22PB"),
    (10000000000000 * PB, "1e+04YB"),
])
def test_human_size_precision_4_matches_go_units(size, text):
    assert human_size(size, precision=4) == text


@pytest.mark.parametrize("size, text", [
    # HumanSizeWithPrecision(size, 3), what `docker images` and `docker history` print
    (0, "0B"), (3, "3B"), (999, "999B"), (1000, "1kB"), (1024, "1.02kB"), (1048576, "1.05MB"),
    (1983000, "1.98MB"), (1985000, "1.99MB"), (5.372 * TB, "5.37TB"),
    (999_500, "1e+03kB"),  # Go's %.3g, like C's, switches to an exponent here
])
def test_human_size_default_is_the_cli_precision(size, text):
    assert human_size(size) == text


@pytest.mark.parametrize("seconds, text", [
    # go-units TestHumanDuration, verbatim
    (0.45, "Less than a second"), (1 * SECOND, "1 second"), (45, "45 seconds"), (46, "46 seconds"),
    (59, "59 seconds"), (60, "About a minute"), (1 * MINUTE, "About a minute"),
    (3 * MINUTE, "3 minutes"), (35 * MINUTE, "35 minutes"), (35 * MINUTE + 40, "35 minutes"),
    (45 * MINUTE, "45 minutes"), (45 * MINUTE + 40, "45 minutes"), (46 * MINUTE, "46 minutes"),
    (59 * MINUTE, "59 minutes"), (1 * HOUR, "About an hour"), (HOUR + 29 * MINUTE, "About an hour"),
    (HOUR + 31 * MINUTE, "2 hours"), (HOUR + 59 * MINUTE, "2 hours"), (3 * HOUR, "3 hours"),
    (3 * HOUR + 29 * MINUTE, "3 hours"), (3 * HOUR + 31 * MINUTE, "4 hours"),
    (3 * HOUR + 59 * MINUTE, "4 hours"), (3 * HOUR + 60 * MINUTE, "4 hours"),
    (24 * HOUR, "24 hours"), (DAY + 12 * HOUR, "36 hours"), (2 * DAY, "2 days"), (7 * DAY, "7 days"),
    (13 * DAY + 5 * HOUR, "13 days"), (2 * WEEK, "2 weeks"), (2 * WEEK + 4 * DAY, "2 weeks"),
    (3 * WEEK, "3 weeks"), (4 * WEEK, "4 weeks"), (4 * WEEK + 3 * DAY, "4 weeks"),
    (1 * MONTH, "4 weeks"), (MONTH + 2 * WEEK, "6 weeks"), (2 * MONTH, "2 months"),
    (2 * MONTH + 2 * WEEK, "2 months"), (3 * MONTH, "3 months"), (3 * MONTH + WEEK, "3 months"),
    (5 * MONTH + 2 * WEEK, "5 months"), (13 * MONTH, "13 months"), (23 * MONTH, "23 months"),
    (24 * MONTH, "24 months"), (24 * MONTH + 2 * WEEK, "2 years"), (3 * YEAR + 2 * MONTH, "3 years"),
])
def test_human_duration_matches_go_units(seconds, text):
    assert human_duration(seconds) == text


def test_ago():
    now = 1_700_000_000
    assert ago(now - 5 * MINUTE, now=now) == "5 minutes ago"
    assert ago(now, now=now) == "Less than a second ago"
    assert ago(now + 30, now=now) == "Less than a second ago"  # a clock a little ahead
    assert ago(0, now=now) == "N/A"
    assert ago(None, now=now) == "N/A"


def test_short_id():
    full = "sha256:" + "0123456789abcdef" * 4
    assert short_id(full) == "0123456789ab"
    assert short_id("0123456789abcdef" * 4) == "0123456789ab"
    assert short_id("abc") == "abc"
