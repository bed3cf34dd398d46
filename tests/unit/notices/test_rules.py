"""Who is told what, and when: the units of their work, the citizens of their ticket."""

from __future__ import annotations

from datetime import date

import pytest

from hotline.notices.rules import Contacts, Medium, is_mobile, night_digest, notices_for
from hotline.ticketing.errors import TicketError
from tests.unit.ticketing.desk import AGENT, CITY_MGMT, SUPERVISOR, TZ, Desk

UNIT_MOBILE = "13900001111"
CONTACTS = Contacts({"cgj": UNIT_MOBILE, "scjg": "0717-6221234"})


def told(desk: Desk, contacts: Contacts = CONTACTS, event_id: int = 7) -> list:
    return notices_for(event_id, desk.events[-1], desk.ticket, contacts)


def test_a_dispatched_ticket_reaches_the_units_mobile_with_its_sign_deadline() -> None:
    desk = Desk().dispatched()
    [notice] = told(desk)
    assert (notice.medium, notice.recipient) == (Medium.SMS, UNIT_MOBILE)
    assert notice.body.startswith(f"【12345】新工单 {desk.ticket.number} 已派发贵单位")
    assert f"{desk.ticket.sign_due:%m月%d日%H:%M}前签收" in notice.body
    assert "13800138000" not in notice.body  # the caller's number is not the unit's to get by SMS


def test_a_unit_with_a_landline_only_or_no_sms_gateway_gets_no_sms() -> None:
    assert told(Desk().dispatched(), Contacts({"cgj": "0717-6221234"})) == []
    assert told(Desk().dispatched(), Contacts({"cgj": UNIT_MOBILE}, media=frozenset({Medium.EMAIL}))) == []


def test_reminders_supervision_and_a_refused_return_are_sent_to_the_lead_unit() -> None:
    desk = Desk().signed()
    desk.do(SUPERVISOR, "remind", reason="即将到期")
    assert told(desk)[0].body.startswith(f"【12345】催办：工单 {desk.ticket.number}")
    desk.do(SUPERVISOR, "supervise", reason="群众多次来电")
    assert "督办" in told(desk)[0].body and "群众多次来电" in told(desk)[0].body
    desk.do(CITY_MGMT, "request_return", reason="不属于本单位职责")
    desk.do(SUPERVISOR, "refuse_return", reason="属于城管职责")
    assert "退回申请未获同意（属于城管职责）" in told(desk)[0].body


def test_a_citizen_who_agreed_gets_the_number_and_the_approved_reply_by_sms() -> None:
    desk = Desk(sms_notices=True)
    [intake] = told(desk)
    assert intake.recipient == "13800138000" and "工单号 T1" in intake.body
    desk.signed().replied()
    [reply] = told(desk)
    assert reply.body == "【12345】工单 T1 答复如下： 已约谈店主，安装油烟净化器"  # one line for SMS


def test_a_citizen_who_did_not_agree_or_gave_a_landline_gets_nothing() -> None:
    assert told(Desk()) == []
    assert told(Desk(sms_notices=True, caller_phone="0717-6221234")) == []


def test_a_citizen_who_wrote_an_email_is_answered_by_email() -> None:
    desk = Desk(channel="email", caller_email="lisi@example.cn", caller_name="李四")
    [intake] = told(desk)
    assert (intake.medium, intake.recipient, intake.subject) == (
        Medium.EMAIL,
        "lisi@example.cn",
        "您的诉求已受理（工单号 T1）",
    )
    assert intake.body.startswith("尊敬的市民，您好：")
    desk.do(SUPERVISOR, "answer", answer="办理时间为工作日9:00-17:00")
    assert "办理时间为工作日9:00-17:00" in told(desk)[0].body


def test_an_official_mail_never_repeats_the_name_a_mail_gave_itself() -> None:
    """A From header's display name is anyone's text: 200 forged mails greeted their victim with a phishing
    line in the hotline's name."""
    lure = "您的社保卡已冻结请登录 sb-gov.example 解冻"
    desk = Desk(channel="email", caller_email="victim@example.cn", caller_name=lure)
    [acknowledgement] = told(desk)
    desk.do(SUPERVISOR, "answer", answer="请携带身份证到政务中心办理")
    [answer] = told(desk)
    for notice in (acknowledgement, answer):
        assert "社保卡" not in notice.body + notice.subject and "sb-gov" not in notice.body
        assert notice.body.startswith("尊敬的市民，您好：")


def test_the_key_names_the_event_so_deciding_twice_gives_the_same_notice() -> None:
    desk = Desk().dispatched()
    assert told(desk, event_id=41) == told(desk, event_id=41)
    assert told(desk, event_id=41)[0].key != told(desk, event_id=42)[0].key


def test_mobiles_are_told_from_landlines() -> None:
    assert is_mobile("13800138000") and is_mobile("+86 138-0013-8000")
    assert not is_mobile("0717-6221234") and not is_mobile("12345") and not is_mobile("")


def test_a_quiet_night_still_gets_its_digest_and_nobody_on_duty_gets_none() -> None:
    [quiet] = night_digest(date(2026, 11, 2), [], ["zhiban@hotline.local"], TZ)
    assert (quiet.key, quiet.body) == (
        "digest:2026-11-02:email:zhiban@hotline.local",
        "夜间没有收到留言和来信。",
    )
    assert night_digest(date(2026, 11, 2), [Desk(channel="voicemail").ticket], [], TZ) == []


def test_an_agents_word_reaches_the_citizen_and_one_with_no_way_to_reach_is_refused() -> None:
    desk = Desk(caller_email="lisi@example.cn")
    desk.do(AGENT, "message_citizen", text="请补充具体门牌号")
    [word] = told(desk)
    assert (word.medium, word.subject) == (Medium.EMAIL, "关于您的诉求（工单号 T1）")
    assert "请补充具体门牌号" in word.body
    with pytest.raises(TicketError) as refused:
        Desk().do(AGENT, "message_citizen", text="请补充具体门牌号")
    assert refused.value.error_id == "citizen-unreachable"
