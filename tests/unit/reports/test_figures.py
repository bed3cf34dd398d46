"""The figures' definitions: rates, averages, the day in half hours, the CSV a spreadsheet opens."""

import csv
import io
from zoneinfo import ZoneInfo

from hotline.reports.figures import NO_SUMS, AgentTime, DayCall, buckets, figures, half_hours, to_csv

ZONE = ZoneInfo("Asia/Shanghai")


def test_rates_and_averages_from_the_sums():
    sums = {**NO_SUMS, "offered": 10, "requested": 8, "answered": 6, "answered_within_15s": 4}
    sums |= {"wait_answered_seconds": 60.0, "handle_seconds": 1200.0, "abandoned": 2}
    row = figures("2026-11-02", sums)
    assert (row["answer_rate"], row["answered_within_15s_rate"]) == (0.75, 0.5)
    assert (row["asa_seconds"], row["aht_seconds"]) == (10.0, 200.0)
    assert figures("empty", NO_SUMS)["answer_rate"] is None  # no calls: no rate, not 0 %


def test_occupancy_is_work_over_the_time_available_for_it():
    seconds = {"ready": 1800, "talking": 1200, "wrap_up": 600, "break": 600, "logged_out": 9999}
    time_in = AgentTime(seconds, {})
    columns = time_in.columns(not_answered=1)
    assert columns["signed_in_seconds"] == 4200 and columns["occupancy"] == 0.5


def test_report_keys_are_local_days_hours_weeks_and_months():
    midnight_utc = 1_793_577_600.0  # 2026-11-02 00:00 UTC is 08:00 in Beijing
    assert buckets(midnight_utc, ZONE) == {
        "day": "2026-11-02",
        "hour": "2026-11-02 08",
        "week": "2026-W45",
        "month": "2026-11",
    }


def test_the_day_in_half_hours_counts_calls_and_averages_waiting_and_ready():
    start = 0.0
    calls = [
        DayCall(arrived=100.0, queued=110.0, stopped_waiting=1010.0, outcome="answered"),  # waits 900 s
        DayCall(arrived=1900.0, queued=1900.0, stopped_waiting=None, outcome="in_progress"),  # still waiting
        DayCall(arrived=1950.0, queued=1952.0, stopped_waiting=1990.0, outcome="abandoned"),  # gave up
    ]
    slots = half_hours(start, now=2800.0, calls=calls, ready=[(0.0, 3600.0), (0.0, 900.0)], zone=ZONE)
    # The caller still waiting arrived, and is neither answered nor abandoned.
    assert [(s["offered"], s["answered"], s["abandoned"]) for s in slots] == [(1, 1, 0), (2, 0, 1)]
    # 900 of the first 1800 s; 900 + 38 of the 1000 s of the second half hour so far
    assert slots[0]["waiting"] == 0.5 and slots[1]["waiting"] == 0.94
    assert slots[0]["agents_ready"] == 1.5 and slots[1]["agents_ready"] == 1.0
    # The half hours start at the centre's own time, in its zone, as every time the API gives.
    assert (slots[0]["start"], slots[1]["start"]) == (
        "1970-01-01T08:00:00+08:00",
        "1970-01-01T08:30:00+08:00",
    )


def test_the_csv_has_chinese_headings_and_a_byte_order_mark():
    text = to_csv([figures("2026-11-02", {**NO_SUMS, "offered": 3})])
    assert text.startswith("\ufeff")
    header, row = list(csv.reader(io.StringIO(text[1:])))
    assert header[:2] == ["分组", "呼入量"] and row[:2] == ["2026-11-02", "3"]
