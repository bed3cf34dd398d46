"""The deployment's IVR menu, its prompts, and when agents answer."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from hotline.acd.engine import Priority
from hotline.agents.skills import SkillSpecError, parse_agent_skills
from hotline.ivr.menu import MenuError, QueueRoute, load_menu, parse_menu
from hotline.ivr.prompts import MAX_AHEAD, position_prompts, prompt_path, prompt_texts
from hotline.kernel.runtime.config import Settings
from hotline.ticketing.calendar import AnsweringHours, WorkCalendar


def test_the_keyed_menu_routes_keys_lines_and_the_elderly() -> None:
    menu = load_menu("keyed")
    assert menu.route("12345", "") == QueueRoute("12345")
    assert menu.route("12345", "2") == QueueRoute("dialect", "12345", 20.0)
    assert menu.route("12345", "8") == QueueRoute("12345", priority=Priority.ELDERLY)
    assert menu.route("12315", "2") == QueueRoute("12315", "12345", 30.0), "a kept number keeps its seats"
    greeting = menu.greeting()
    assert "转接110请按0" in greeting and "方言服务请按2" in greeting and "老年人服务请按8" in greeting


@pytest.mark.parametrize(
    ("data", "names"),
    [
        ({"emergency_key": "12"}, "emergency_key"),
        ({"callback_key": "3", "voicemail_key": "3"}, "must differ"),
        ({"emergency_number": "1l0"}, "emergency_number"),
        ({"announce_every": 2}, "announce_every"),
        ({"announce_every": "often"}, "announce_every"),
        ({"options": {"0": {"label": "x"}}}, "emergency key"),
        ({"options": {"5": {}}}, "options.5 needs a label"),
        ({"options": {"5": {"label": "x", "priority": "vip"}}}, "options.5.priority"),
        ({"lines": {"overflow_after": -1}}, "lines.overflow_after"),
        ({"handover_callers": [110]}, "handover_callers"),
        ({"handover_callers": "110"}, "handover_callers"),
        ({"survey": "yes"}, "survey must be true or false"),
        ({"survey": True, "survey_wait": -1}, "survey_wait"),
    ],
)
def test_a_bad_menu_is_refused_naming_the_field(data: dict, names: str) -> None:
    with pytest.raises(MenuError, match=names):
        parse_menu(data)


def test_an_unknown_menu_names_the_presets() -> None:
    with pytest.raises(MenuError, match="keyed, no-menu"):
        load_menu("nowhere")


def test_every_prompt_the_flow_can_ask_for_has_a_text() -> None:
    texts = prompt_texts(load_menu("keyed"))
    for ahead, wait in [(0, 10), (3, 170), (MAX_AHEAD + 5, 4000)]:
        for name in position_prompts(ahead, wait):
            assert name in texts
            prompt_path("/p", name)
    assert position_prompts(3, 170) == ["ahead-3", "wait-3"]
    assert texts["ahead-3"] == "您前面还有3位来电。" and texts["ahead-0"] == "您是下一位。"
    assert position_prompts(MAX_AHEAD + 5, 4000) == ["ahead-more", "wait-more"]
    with pytest.raises(KeyError):
        prompt_path("/p", "no-such-prompt")


def test_answering_hours_follow_the_ticket_calendar() -> None:
    calendar = WorkCalendar(
        frozenset({date(2026, 10, 1)}), frozenset({date(2026, 10, 10)}), frozenset({2026})
    )
    daily = AnsweringHours.parse("08:00-20:00")
    workdays = AnsweringHours.parse("workdays 08:30-17:30")
    assert AnsweringHours.parse("7x24").open_at(datetime(2026, 10, 1, 3, 0), calendar)
    assert daily.open_at(datetime(2026, 10, 1, 9, 0), calendar), "7×12: holidays too"
    assert not daily.open_at(datetime(2026, 10, 2, 20, 0), calendar)
    assert not workdays.open_at(datetime(2026, 10, 1, 9, 0), calendar), "National Day: the night path"
    assert workdays.open_at(datetime(2026, 10, 10, 9, 0), calendar), "a make-up Saturday (调休) is a workday"
    assert not workdays.open_at(datetime(2026, 10, 11, 9, 0), calendar)


def test_agent_skills_from_the_settings() -> None:
    skills = parse_agent_skills("1003=12315:8,12345:3", ["1001", "1003"])
    assert skills == {"1001": {"12345": 5}, "1003": {"12315": 8, "12345": 3}}
    for spec, message in [("1009=12345:5", "1001"), ("1001=12345:0", "1-9"), ("1001=", "至少需要一项技能")]:
        with pytest.raises(SkillSpecError, match=message):
            parse_agent_skills(spec, ["1001"])


def test_the_default_follows_gb_t_33358_greeting_with_the_emergency_notice_and_no_options() -> None:
    menu = load_menu(Settings().ivr_menu)
    assert not menu.keyed and menu.options == {}
    assert menu.greeting() == (
        "您好，欢迎致电12345政务服务便民热线。如遇匪警、火警、急救等紧急情况，转接110请按0，或挂机拨打110、119、120。"
    )
    assert menu.route("12345", "") == QueueRoute("12345")
    assert menu.route("12315", "") == QueueRoute("12315", "12345", 30.0), "kept numbers keep their seats"
