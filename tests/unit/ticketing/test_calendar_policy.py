"""Working-day deadlines across the 2026 Spring Festival and National Day, for every preset."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.cli import main
from hotline.ticketing.calendar import DayOverride, ServiceDay, package_calendar
from hotline.ticketing.policy import PolicyError, load_policy, parse_policy, plan_deadlines, preset_names
from hotline.ticketing.vocabulary import TicketType

TZ = ZoneInfo("Asia/Shanghai")
CALENDAR = package_calendar()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def test_2026_spring_festival_and_make_up_days_are_known() -> None:
    assert CALENDAR.is_workday(date(2026, 2, 14))  # Saturday, make-up day
    assert not CALENDAR.is_workday(date(2026, 2, 16))  # Monday, holiday
    assert CALENDAR.is_workday(date(2026, 2, 28))  # Saturday, make-up day
    assert CALENDAR.is_workday(date(2026, 9, 20))  # Sunday before National Day
    assert not CALENDAR.is_workday(date(2026, 10, 7))


def test_zhijiang_complaint_accepted_the_friday_before_spring_festival() -> None:
    plan = plan_deadlines(load_policy("zhijiang"), CALENDAR, TicketType.COMPLAINT, at("2026-02-13T16:00"))
    assert plan.sign.at == at("2026-02-14T11:30")  # 1.5 h Friday + 3 h on the make-up Saturday
    assert plan.return_window.at == at("2026-02-24T16:00")  # the nine holidays do not count
    assert plan.handling.at == at("2026-02-27T16:00")
    assert plan.extension_max == 1 and str(plan.extension_length) == "5wd"
    assert plan.dispatch is None and plan.callback is None and not plan.unknown_years


def test_zhijiang_complex_case_gets_fifteen_working_days() -> None:
    plan = plan_deadlines(
        load_policy("zhijiang"), CALENDAR, TicketType.HELP, at("2026-02-13T16:00"), complex_case=True
    )
    # 15 working days: Fri (1.5 h), Sat 14th, then from Tue 24th; Sat 28th is a make-up day.
    assert plan.handling.at == at("2026-03-12T16:00")


def test_yunnan_complaint_accepted_after_cutoff_on_national_day_eve() -> None:
    plan = plan_deadlines(load_policy("yunnan"), CALENDAR, TicketType.COMPLAINT, at("2026-09-30T19:00"))
    assert plan.dispatch is not None and plan.dispatch.at == at("2026-10-01T10:00")  # next day by 10:00
    assert plan.sign.at == at("2026-10-08T10:30")  # 2 working hours after the holiday week
    assert plan.return_window.at == at("2026-10-10T16:30")  # 24 working hours from signing; Sat 10th works
    assert plan.handling.at == at("2026-10-27T17:30")  # 15 working days
    assert plan.extension_max == 2 and str(plan.extension_length) == "10wd"


def test_yunnan_dispatch_same_day_before_cutoff_and_consultations_get_five_days() -> None:
    plan = plan_deadlines(load_policy("yunnan"), CALENDAR, TicketType.CONSULT, at("2026-09-18T17:59"))
    assert plan.dispatch is not None and plan.dispatch.at == at("2026-09-18T23:59")
    # Fri 18th (0 h left), Sun 20th is a make-up day: 20, 21, 22, 23, 24.
    assert plan.handling.at == at("2026-09-24T17:30")


def test_yingkou_consultation_two_days_callback_and_extension_request_window() -> None:
    policy = load_policy("yingkou")
    plan = plan_deadlines(policy, CALENDAR, TicketType.CONSULT, at("2026-09-29T10:00"))
    assert plan.handling.at == at("2026-10-08T10:00")  # Tue 29th, Wed 30th, then the 8th
    assert plan.callback is not None and plan.callback.at == at("2026-10-10T10:00")  # make-up Saturday
    complaint = plan_deadlines(policy, CALENDAR, TicketType.COMPLAINT, at("2026-09-29T10:00"))
    assert complaint.handling.at == at("2026-10-12T10:00")  # Sat 10th is a make-up working day
    assert complaint.extension_request_by.at == at("2026-10-09T10:00")  # 2 working days before
    urgent = plan_deadlines(policy, CALENDAR, TicketType.HELP, at("2026-10-02T03:00"), urgent=True)
    assert urgent.onsite is not None and urgent.onsite.at == at("2026-10-02T05:00")  # clock hours
    assert urgent.handling.at == at("2026-10-09T17:30")  # 2 working days


def test_unknown_year_is_estimated_on_weekends_and_flagged() -> None:
    plan = plan_deadlines(load_policy("zhijiang"), CALENDAR, TicketType.COMPLAINT, at("2026-12-30T16:00"))
    assert plan.unknown_years == (2027,)
    assert plan.handling.estimated and not plan.sign.estimated
    known = CALENDAR.with_overrides([DayOverride(date(2027, 1, 1), is_workday=False, note="元旦")], [2027])
    again = plan_deadlines(load_policy("zhijiang"), known, TicketType.COMPLAINT, at("2026-12-30T16:00"))
    assert not again.unknown_years
    assert again.handling.at == plan.handling.at + timedelta(days=1)  # New Year's Day no longer counts


def test_override_turns_a_weekend_into_a_working_day() -> None:
    calendar = CALENDAR.with_overrides([DayOverride(date(2026, 3, 7), is_workday=True)])
    assert calendar.is_workday(date(2026, 3, 7)) and not CALENDAR.is_workday(date(2026, 3, 7))


@given(
    start=st.datetimes(datetime(2025, 1, 1), datetime(2026, 12, 1)),
    hours=st.floats(min_value=0, max_value=400, allow_nan=False),
)
def test_working_hours_round_trip(start: datetime, hours: float) -> None:
    start = start.replace(tzinfo=TZ, microsecond=0)
    deadline = CALENDAR.add_working_hours(start, hours).at
    assert CALENDAR.working_hours_between(start, deadline) == pytest.approx(hours, abs=1e-6)
    if hours > 0:
        assert CALENDAR.subtract_working_hours(deadline, hours) >= start
        assert CALENDAR.working_hours_between(CALENDAR.subtract_working_hours(deadline, hours), deadline) == (
            pytest.approx(hours, abs=1e-6)
        )


def test_every_preset_loads_and_names_its_rules() -> None:
    assert preset_names() == ["yingkou", "yunnan", "zhijiang"]
    for name in preset_names():
        policy = load_policy(name)
        assert policy.name == name and policy.title
        assert policy.to_json()["handling"]["default"] == "5wd"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"deadlines": {"sign": "soon"}}, "deadlines.sign: expected a duration"),
        ({"deadlines": {"sign": "-1wd"}}, "deadlines.sign"),
        ({"handling": {"complex": None}}, "handling.complex is missing"),
        ({"handling": {"default": "5wd", "complex": "9wd", "by_type": {"投诉": "x"}}}, "handling.by_type"),
        ({"handling": {"default": "5wd", "complex": "9wd", "by_type": {"gossip": "2wd"}}}, "gossip"),
        ({"extension": {"max_count": -1}}, "extension.max_count"),
        ({"service_day": "18:00-08:00"}, "must end after it starts"),
        ({"timezone": "Mars/Olympus"}, "unknown timezone"),
        ({"answering": "always"}, "answering"),
        ({"deadlines": {"sign": "1wd", "return_window": "2wd", "return_from": "moon"}}, "return_from"),
        ({"attention": {"remind_before": "tomorrow"}}, "attention.remind_before"),
        ({"attention": {"hot_reporters": 0}}, "attention.hot_reporters"),
        ({"attention": {"hot_window_days": "7"}}, "attention.hot_window_days"),
        ({"attention": {"supervise_overdue": "yes"}}, "attention.supervise_overdue"),
        ({"retention": {"conversation": 0}}, "retention.conversation"),
        ({"retention": {"fax": 30}}, "retention.fax is not one of conversation, caller_track"),
        (
            {"deadlines": {"sign": "1wd", "return_window": "2wd", "mailbox_response": "soon"}},
            "mailbox_response",
        ),
    ],
)
def test_a_bad_policy_file_is_refused_with_the_field_named(change: dict, message: str) -> None:
    data = {
        "deadlines": {"sign": "1wd", "return_window": "2wd"},
        "handling": {"default": "5wd", "complex": "15wd"},
    }
    for key, value in change.items():
        merged = {**data[key], **value} if isinstance(value, dict) and key in data else value
        data[key] = {k: v for k, v in merged.items() if v is not None} if isinstance(merged, dict) else merged
    with pytest.raises(PolicyError, match=message):
        parse_policy(data, "mine.toml")


def test_an_administrators_own_policy_file(tmp_path) -> None:
    path = tmp_path / "city.toml"
    path.write_text(
        'name = "city"\nservice_day = "09:00-17:00"\n[deadlines]\nsign = "1wh"\nreturn_window = "1wd"\n'
        '[handling]\ndefault = "3wd"\ncomplex = "6wd"\n',
        encoding="utf-8",
    )
    policy = load_policy(str(path))
    assert policy.service_day == ServiceDay.parse("09:00-17:00")
    calendar = package_calendar(policy.service_day)
    plan = plan_deadlines(policy, calendar, TicketType.OTHER, at("2026-11-20T16:30"))
    assert plan.sign.at == at("2026-11-23T09:30")


@pytest.fixture(autouse=True)
def own_home(tmp_path, monkeypatch) -> None:
    """The CLI reads the stored calendar from its home's database: this test's own, not the checkout's
    (tests on other workers run the same commands at the same time)."""
    monkeypatch.setenv("HOTLINE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HOTLINE_CONFIG_FILE", str(tmp_path / "hotline.env"))


def test_cli_prints_every_deadline_as_json(capsys) -> None:
    argv = ["policy", "deadline", "--preset", "yunnan", "--type", "投诉", "--accepted", "2026-09-30T19:00"]
    assert main([*argv, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["deadlines"]["dispatch"]["at"] == "2026-10-01T10:00:00+08:00"
    assert out["deadlines"]["handling"]["at"] == "2026-10-27T17:30:00+08:00"
    assert out["estimated"] is False and out["type"] == "complaint"
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "办结期限    2026-10-27 17:30 周二（15wd）" in text and "最多 2 次" in text


def test_cli_warns_loudly_for_an_unknown_year(capsys) -> None:
    argv = [
        "policy",
        "deadline",
        "--preset",
        "zhijiang",
        "--type",
        "consult",
        "--accepted",
        "2026-12-30 16:00",
    ]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "警告: 2027 年" in captured.err and "（估算）" in captured.out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--preset", "nowhere", "--type", "投诉", "--accepted", "2026-01-05T09:00"], "no policy preset"),
        (["--preset", "yunnan", "--type", "闲聊", "--accepted", "2026-01-05T09:00"], "unknown TicketType"),
        (["--preset", "yunnan", "--type", "投诉", "--accepted", "tomorrow"], "--accepted must be"),
    ],
)
def test_cli_refuses_bad_input_clearly(argv: list[str], message: str, capsys) -> None:
    assert main(["policy", "deadline", *argv]) == 2
    assert message in capsys.readouterr().err


def test_cli_show_prints_the_configured_preset(capsys, monkeypatch) -> None:
    monkeypatch.setenv("HOTLINE_TICKET_POLICY", "yingkou")
    monkeypatch.setenv("HOTLINE_CONFIG_FILE", "/nonexistent/hotline.env")
    assert main(["policy", "show"]) == 0
    assert json.loads(capsys.readouterr().out)["callback"] == "2wd"
