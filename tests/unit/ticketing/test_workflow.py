"""Every transition of the work order, and every refusal, as a citizen, agent or unit would notice."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest

from hotline.kernel.api.identity import Actor, Role
from hotline.ticketing.errors import TicketError
from hotline.ticketing.vocabulary import Status
from hotline.ticketing.workflow import RULES, parse_intake, replay

from .desk import AGENT, CITY_MGMT, MARKET, SUPERVISOR, TZ, WATER, Desk


def refused(error_id: str, desk: Desk, actor: Actor, command: str, **payload) -> TicketError:
    before = desk.ticket
    with pytest.raises(TicketError) as caught:
        desk.do(actor, command, **payload)
    assert caught.value.error_id == error_id, caught.value.message
    assert desk.ticket == before  # a refusal changes nothing
    return caught.value


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


# ------------------------------------------------------------------ intake


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": None}, "type"),
        ({"type": "闲聊"}, "type"),
        ({"description": "   "}, "description"),
        ({"category": ""}, "category"),
        ({"caller_phone": "call me"}, "caller_phone"),
        ({"confidential": "yes"}, "confidential"),
        ({"attachments": "photo.jpg"}, "attachments"),
        ({"channel": "telegram"}, "channel"),
        ({"description": "长" * 5001}, "description"),
    ],
)
def test_intake_refuses_bad_fields_and_names_them(change: dict, field: str) -> None:
    data = {"type": "投诉", "description": "路灯不亮", "category": "c", "region": "r", **change}
    data = {k: v for k, v in data.items() if v is not None}
    with pytest.raises(TicketError) as caught:
        parse_intake(data)
    assert caught.value.error_id == "invalid-field" and caught.value.details["field"] == field
    assert caught.value.status == 422


def test_intake_accepts_labels_and_defaults_callback_number() -> None:
    intake = parse_intake(
        {
            "type": "求助",
            "description": "d",
            "category": "c",
            "region": "r",
            "caller_phone": "0717-4221234",
            "channel": "微信",
        }
    )
    assert intake.ticket_type.value == "help" and intake.channel.value == "wechat"
    assert intake.callback_phone == "0717-4221234"


def test_units_cannot_take_in_tickets() -> None:
    desk = Desk()
    with pytest.raises(TicketError, match="only the platform"):
        from hotline.ticketing.workflow import receive

        receive(desk.ticket.intake, "T2", desk.ctx(CITY_MGMT))


# ------------------------------------------------------------------ not accepted, direct answers


def test_not_accepted_gives_guidance_then_archives_and_stays_archived() -> None:
    desk = Desk()
    desk.do(AGENT, "reject", rejection="emergency")
    assert desk.ticket.status == Status.NOT_ACCEPTED
    assert "110" in desk.events[-1].data["guidance"]
    refused("invalid-field", Desk(), AGENT, "reject", rejection="boring")
    desk.do(SUPERVISOR, "archive")
    assert desk.ticket.status == Status.ARCHIVED
    for command in (c for c, rule in RULES.items() if Role.SUPERVISOR in rule.roles):
        refused("illegal-transition", desk, SUPERVISOR, command, text="x", reason="x", unit="cgj")


def test_direct_answer_then_satisfied_callback_archives() -> None:
    desk = Desk(type="consult")
    desk.do(AGENT, "answer", answer="医保卡补办请携带身份证到政务服务中心3号窗口")
    assert desk.ticket.status == Status.AWAITING_CALLBACK and desk.ticket.answered_directly
    desk.do(AGENT, "record_callback", result="满意")
    assert desk.ticket.status == Status.ARCHIVED and desk.ticket.satisfaction == "satisfied"


def test_direct_answer_found_wanting_goes_to_dispatch() -> None:
    desk = Desk(type="consult")
    desk.do(AGENT, "answer", answer="请咨询社区")
    desk.do(AGENT, "record_callback", result="不满意")
    assert desk.ticket.status == Status.RECEIVED and desk.ticket.redo_count == 1
    desk.dispatched()
    assert desk.ticket.status == Status.DISPATCHED


# ------------------------------------------------------------------ dispatch, sign, return


def test_dispatch_sets_zhijiang_deadlines_and_only_the_lead_unit_signs() -> None:
    desk = Desk(start="2026-02-13T16:00").dispatched(assist_units=["scjg", "cgj"])
    ticket = desk.ticket
    assert ticket.status == Status.DISPATCHED and ticket.lead_unit == "cgj"
    assert ticket.assist_units == ("scjg",)  # the lead is not also assisting
    assert ticket.sign_due == local("2026-02-14T11:30")
    assert ticket.return_due == local("2026-02-24T16:00")
    assert ticket.handling_due == local("2026-02-27T16:00")
    assert refused("not-your-ticket", desk, MARKET, "sign").status == 403
    assert refused("forbidden", desk, AGENT, "sign").status == 403
    desk.later(hours=1).do(CITY_MGMT, "sign")
    assert desk.ticket.status == Status.IN_PROGRESS and desk.events[-1].data["late"] is False


def test_late_signing_is_recorded_not_refused() -> None:
    desk = Desk().dispatched()
    desk.later(days=3).do(CITY_MGMT, "sign")
    assert desk.events[-1].data["late"] is True


def test_return_within_window_approved_then_redispatched() -> None:
    desk = Desk().dispatched()
    refused("reason-required", desk, CITY_MGMT, "request_return")
    desk.do(CITY_MGMT, "request_return", reason="油烟扰民属市场监管职责")
    assert desk.ticket.status == Status.RETURN_REQUESTED
    refused("forbidden", desk, AGENT, "approve_return")  # review is a supervisor's
    desk.do(SUPERVISOR, "approve_return")
    assert desk.ticket.status == Status.RECEIVED and desk.ticket.lead_unit is None
    assert desk.ticket.past_units == ("cgj",)
    desk.dispatched(MARKET)
    assert desk.ticket.lead_unit == "scjg"
    refused("not-your-ticket", desk, CITY_MGMT, "sign")


def test_refused_return_means_the_unit_must_handle_it() -> None:
    desk = Desk().dispatched()
    desk.do(CITY_MGMT, "request_return", reason="不属于本单位")
    refused("reason-required", desk, SUPERVISOR, "refuse_return")
    desk.do(SUPERVISOR, "refuse_return", reason="门前三包属城管职责")
    assert desk.ticket.status == Status.IN_PROGRESS and desk.ticket.signed_at is not None


def test_return_after_the_window_is_refused() -> None:
    desk = Desk(start="2026-11-02T09:00").signed()
    desk.later(days=3)  # Thursday: 2 working days have passed
    error = refused("return-window-closed", desk, CITY_MGMT, "request_return", reason="不属于本单位")
    assert error.status == 409 and error.details["return_due"].startswith("2026-11-04T09:00")


def test_yunnan_return_window_runs_from_signing() -> None:
    desk = Desk("yunnan", start="2026-11-02T09:00").dispatched()
    desk.later(hours=1).do(CITY_MGMT, "sign")
    # 24 working hours from signing at 10:00 Monday: 7.5 + 9 + 7.5.
    assert desk.ticket.return_due == local("2026-11-04T16:00")


def test_redispatch_to_another_unit_needs_a_reason_and_a_different_unit() -> None:
    desk = Desk().signed()
    refused("same-unit", desk, AGENT, "redispatch", unit="cgj", reason="x")
    refused("reason-required", desk, AGENT, "redispatch", unit="scjg")
    desk.do(AGENT, "redispatch", unit="scjg", reason="职责调整")
    assert desk.ticket.status == Status.DISPATCHED and desk.ticket.past_units == ("cgj",)


def test_urgent_items_get_hour_level_deadlines() -> None:
    desk = Desk("yingkou", start="2026-11-07T22:00", type="help", urgent=True)  # Saturday night
    desk.dispatched(WATER)
    assert desk.ticket.onsite_due == local("2026-11-08T00:00")  # 2 clock hours
    assert desk.ticket.handling_due == local("2026-11-10T17:30")  # 2 working days


# ------------------------------------------------------------------ extensions


def test_zhijiang_allows_one_extension_of_the_same_length() -> None:
    desk = Desk(start="2026-11-02T09:00").signed()
    due = desk.ticket.handling_due
    desk.do(CITY_MGMT, "request_extension", reason="需协调供电公司")
    refused("extension-pending", desk, CITY_MGMT, "request_extension", reason="again")
    refused("forbidden", desk, CITY_MGMT, "approve_extension")
    desk.do(SUPERVISOR, "approve_extension")
    assert desk.ticket.handling_due == local("2026-11-16T09:00") and due == local("2026-11-09T09:00")
    error = refused("extension-limit-reached", desk, CITY_MGMT, "request_extension", reason="还要")
    assert error.details["max_count"] == 1
    refused("no-extension-pending", desk, SUPERVISOR, "approve_extension")


def test_yunnan_allows_two_extensions_of_ten_working_days() -> None:
    desk = Desk("yunnan", start="2026-11-02T09:00").signed()
    for _ in range(2):
        desk.do(CITY_MGMT, "request_extension", reason="复杂")
        desk.do(SUPERVISOR, "approve_extension")
    assert desk.ticket.extensions_granted == 2
    assert desk.ticket.handling_due == local("2026-12-21T09:00")  # 15 + 10 + 10 working days
    refused("extension-limit-reached", desk, CITY_MGMT, "request_extension", reason="复杂")


def test_yingkou_extension_must_be_asked_two_working_days_ahead() -> None:
    desk = Desk("yingkou", start="2026-11-02T09:00").signed()  # due Mon 9th 09:00
    desk.later(days=3, hours=1)  # Thursday 10:00: less than 2 working days left
    error = refused("extension-request-too-late", desk, CITY_MGMT, "request_extension", reason="复杂")
    assert error.details["latest"].startswith("2026-11-05T09:00")


def test_refused_extension_keeps_the_deadline() -> None:
    desk = Desk().signed()
    due = desk.ticket.handling_due
    desk.do(CITY_MGMT, "request_extension", reason="人手不足")
    desk.do(SUPERVISOR, "refuse_extension", reason="理由不充分")
    assert desk.ticket.handling_due == due and desk.ticket.extension_requested_at is None


# ------------------------------------------------------------------ reply, review, callback


def test_reply_review_and_satisfied_callback_archive() -> None:
    desk = Desk().signed()
    refused("invalid-field", desk, CITY_MGMT, "reply", text=" ")
    desk.do(CITY_MGMT, "reply", text="已处理")
    assert desk.ticket.status == Status.REPLIED and desk.events[-1].data["late"] is False
    desk.do(SUPERVISOR, "reject_reply", reason="未联系诉求人")
    assert desk.ticket.status == Status.IN_PROGRESS
    desk.replied()
    assert desk.ticket.status == Status.AWAITING_CALLBACK
    desk.do(AGENT, "record_callback", result="basically_satisfied")
    assert desk.ticket.status == Status.ARCHIVED


def test_late_reply_is_marked_late() -> None:
    desk = Desk().signed()
    desk.later(days=14).do(CITY_MGMT, "reply", text="已处理")
    assert desk.ticket.replied_late


def test_dissatisfied_twice_goes_to_redo_then_professional_evaluation() -> None:
    desk = Desk().signed().replied()
    desk.later(days=1).do(AGENT, "record_callback", result="不满意", unit_fault=True)
    assert desk.ticket.status == Status.IN_PROGRESS and desk.ticket.redo_count == 1
    assert desk.ticket.supervised and desk.ticket.lead_unit == "cgj"
    assert desk.ticket.handling_due == local("2026-11-10T09:00")  # 5 fresh working days
    desk.replied()
    desk.do(AGENT, "record_callback", result="不满意", unit_fault=True)
    assert desk.ticket.status == Status.UNDER_EVALUATION
    refused("invalid-field", desk, SUPERVISOR, "evaluate", reason="x", verdict="maybe")
    desk.do(SUPERVISOR, "evaluate", verdict="unreasonable", reason="诉求超出政策范围，已解释")
    assert desk.ticket.status == Status.ARCHIVED and desk.ticket.evaluation == "unreasonable"


def test_dissatisfied_not_the_units_fault_archives_with_an_explanation() -> None:
    desk = Desk().signed().replied()
    refused("reason-required", desk, AGENT, "record_callback", result="dissatisfied")
    desk.do(AGENT, "record_callback", result="dissatisfied", reason="诉求人要求赔偿，不属行政职权")
    assert desk.ticket.status == Status.ARCHIVED


def test_unreachable_callbacks_before_archive() -> None:
    desk = Desk().signed().replied()
    refused("invalid-field", desk, AGENT, "record_callback", result="whatever")
    for attempt in range(3):
        refused("callback-not-attempted", desk, SUPERVISOR, "archive")
        desk.do(AGENT, "record_callback", result="未联系上")
        assert desk.ticket.callback_attempts == attempt + 1
    desk.do(SUPERVISOR, "archive", reason="三次未接通")
    assert desk.ticket.status == Status.ARCHIVED


# ------------------------------------------------------------------ supervision, merge, notes


def test_reminders_supervision_hot_and_notes() -> None:
    desk = Desk().signed()
    desk.do(AGENT, "remind")
    desk.do(AGENT, "remind", reason="群众再次来电")
    refused("forbidden", desk, AGENT, "supervise", reason="超期")
    refused("reason-required", desk, SUPERVISOR, "supervise")
    desk.do(SUPERVISOR, "supervise", reason="临近超期")
    desk.do(AGENT, "mark_hot", reason="多人反映")
    desk.do(CITY_MGMT, "note", text="已电话联系诉求人")
    refused("not-your-ticket", desk, WATER, "note", text="路过")
    assert (desk.ticket.reminders, desk.ticket.supervised, desk.ticket.hot) == (2, True, True)


def test_assisting_unit_gives_its_opinion_but_cannot_reply() -> None:
    desk = Desk().dispatched(assist_units=["scjg"])
    desk.do(CITY_MGMT, "sign")
    desk.do(MARKET, "assist_reply", text="已检查该店营业执照")
    refused("not-your-ticket", desk, MARKET, "reply", text="已处理")
    refused("not-your-ticket", desk, CITY_MGMT, "assist_reply", text="x")


def test_merge_marks_the_duplicate() -> None:
    desk = Desk()
    refused("merge-into-self", desk, AGENT, "merge", into="T1")
    desk.do(AGENT, "merge", into="T0", reason="同一诉求人重复来电")
    assert desk.ticket.status == Status.MERGED and desk.ticket.merged_into == "T0"
    desk.do(SUPERVISOR, "archive")
    assert desk.ticket.status == Status.ARCHIVED


def test_unknown_command_lists_the_known_ones() -> None:
    error = refused("unknown-command", Desk(), AGENT, "delete")
    assert error.status == 404 and "dispatch" in error.details["commands"]


# ------------------------------------------------------------------ the transition table, exhaustively


def _actor_for(role: Role) -> Actor:
    return {
        Role.AGENT: AGENT,
        Role.SUPERVISOR: SUPERVISOR,
        Role.ADMIN: Actor("admin", Role.ADMIN),
        Role.UNIT: CITY_MGMT,
        Role.QUALITY: Actor("质检员", Role.QUALITY),
    }[role]


@pytest.mark.parametrize("command", sorted(RULES))
def test_every_command_is_refused_from_every_status_it_does_not_leave(command: str) -> None:
    rule = RULES[command]
    base = Desk().dispatched(assist_units=["scjg"]).ticket
    actor = MARKET if command == "assist_reply" else _actor_for(sorted(rule.roles)[0])
    for status in set(Status) - rule.sources:
        desk = Desk()
        desk.ticket = dataclasses.replace(base, status=status)
        error = refused("illegal-transition", desk, actor, command, reason="r", text="t", unit="scjg")
        assert error.details["ticket_status"] == status.value


@pytest.mark.parametrize("command", sorted(RULES))
def test_every_command_is_refused_to_roles_it_does_not_name(command: str) -> None:
    rule = RULES[command]
    for role in set(Role) - rule.roles:
        desk = Desk().signed()
        desk.ticket = dataclasses.replace(desk.ticket, status=sorted(rule.sources)[0])
        assert refused("forbidden", desk, _actor_for(role), command).status == 403


def test_replaying_the_events_gives_the_same_ticket() -> None:
    desk = Desk().signed()
    desk.do(CITY_MGMT, "request_extension", reason="复杂")
    desk.do(SUPERVISOR, "approve_extension")
    desk.replied()
    desk.do(AGENT, "record_callback", result="不满意", unit_fault=True)
    assert replay(desk.events) == desk.ticket
    assert desk.ticket.version == len(desk.events)
