"""Notices leave through a real SMTP server (aiosmtpd) and a fake SMS gateway the test runs; an outage
delays them, never drops them, never sends them twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from email.header import Header

import aiosmtplib
import pytest
from sqlalchemy import insert

from hotline.intake.mailbox import MAILS_PER_SENDER, Mailbox, MailboxHandler
from hotline.intake.service import IntakeDesk
from hotline.kernel.api.identity import Actor, Role
from hotline.kernel.runtime.db import writer
from hotline.notices.outbox import FAILED, PENDING, SENT, Outbox
from hotline.notices.rules import Medium, Notice
from hotline.notices.service import ACKNOWLEDGEMENTS_PER_ADDRESS, Digest, Notices
from hotline.notices.tables import NoticeCursorRow
from hotline.ticketing.service import TicketDesk
from hotline.ticketing.store import TicketFilter
from tests.integration.outgoing import HOTLINE, ON_DUTY, UNIT_MOBILE, Gateway, Relay
from tests.unit.ticketing.desk import TZ

AGENT = Actor("agent1", Role.AGENT)


def email_intake(number: int) -> dict:
    return {
        "type": "咨询",
        "channel": "email",
        "description": f"第{number}封来信：公积金提取需要什么材料？",
        "category": "urban.management",
        "region": "zj.majiadian.c01",
        "caller_email": f"citizen{number}@example.cn",
        "caller_name": f"市民{number}",
    }


async def test_an_email_to_the_mailbox_is_answered_with_its_ticket_number(
    filing_desk: TicketDesk, notices: Notices, relay: Relay
) -> None:
    mailbox = Mailbox("127.0.0.1", 0, MailboxHandler([HOTLINE], IntakeDesk(filing_desk).take_in_email))
    await mailbox.start()
    try:
        _, reply = await aiosmtplib.send(
            "From: 王五 <wangwu@example.cn>\r\nSubject: =?utf-8?b?5rC05Y6L5L2O?=\r\n"
            "Message-ID: <q1@example.cn>\r\n\r\nwater".encode(),
            sender="wangwu@example.cn",
            recipients=[HOTLINE],
            hostname="127.0.0.1",
            port=mailbox.port,
        )
    finally:
        await mailbox.close()
    number = reply.split()[-1]
    assert await notices.follow() == 1
    assert await notices.deliver() == 1
    [sent] = relay.received
    assert (sent["To"], sent["From"], sent["Subject"]) == (
        "wangwu@example.cn",
        HOTLINE,
        f"您的诉求已受理（工单号 {number}）",
    )
    assert sent.get_content().startswith("尊敬的市民，您好：")  # never the name the mail gave itself


async def test_a_flood_of_mails_in_a_strangers_name_makes_few_tickets_and_fewer_mails_to_them(
    filing_desk: TicketDesk, notices: Notices, relay: Relay
) -> None:
    """Issue 29: 200 mails in 54 s "From: 您的社保卡已冻结请登录 sb-gov.example 解冻 <victim@…>" made 200
    tickets and 200 official mails to the victim, greeting them with the attacker's text."""
    lure = Header("您的社保卡已冻结请登录 sb-gov.example 解冻", "utf-8").encode()
    mailbox = Mailbox("127.0.0.1", 0, MailboxHandler([HOTLINE], IntakeDesk(filing_desk).take_in_email))
    await mailbox.start()
    answers = []
    try:
        for n in range(MAILS_PER_SENDER + 5):
            forged = f"From: {lure} <victim@example.cn>\r\nMessage-ID: <lure-{n}@spam.example>\r\n\r\n点击"
            try:
                await aiosmtplib.send(
                    forged.encode(),
                    sender=f"bot{n}@spam.example",  # a new envelope each time: the From is what counts
                    recipients=[HOTLINE],
                    hostname="127.0.0.1",
                    port=mailbox.port,
                )
                answers.append(250)
            except aiosmtplib.SMTPDataError as refused:
                answers.append(refused.code)
    finally:
        await mailbox.close()
    assert answers == [250] * MAILS_PER_SENDER + [550] * 5  # permanent: refused, not put off
    assert len(await filing_desk.list(AGENT, TicketFilter(limit=500))) == MAILS_PER_SENDER
    await notices.follow()
    await notices.deliver()
    to_victim = [m for m in relay.received if m["To"] == "victim@example.cn"]
    assert len(to_victim) == ACKNOWLEDGEMENTS_PER_ADDRESS
    assert not any("社保卡" in m.get_content() or "sb-gov" in m.get_content() for m in to_victim)
    notices.clock.now += timedelta(days=1, seconds=1)  # a day on, the address is acknowledged again
    await filing_desk.take_in(
        {**email_intake(1), "caller_email": "victim@example.cn", "caller_name": "您的社保卡已冻结"}, AGENT
    )
    assert await notices.follow() == 1


async def test_three_notices_due_while_smtp_is_down_go_once_each_when_it_is_back(
    filing_desk: TicketDesk, notices: Notices, relay: Relay
) -> None:
    await relay.down()
    for n in range(3):
        await filing_desk.take_in(email_intake(n), AGENT)
    assert await notices.follow() == 3
    assert await notices.deliver() == 0
    waiting = await notices.outbox.listing(state=PENDING)
    assert len(waiting) == 3 and all(n["attempts"] == 1 and n["last_error"] for n in waiting)

    await relay.up()
    assert await notices.deliver() == 0  # each waits its turn: a minute after the first failure
    notices.clock.now += timedelta(seconds=61)
    assert await notices.deliver() == 3
    notices.clock.now += timedelta(hours=2)
    assert await notices.follow() == 0 and await notices.deliver() == 0
    assert sorted(m["To"] for m in relay.received) == [f"citizen{n}@example.cn" for n in range(3)]
    assert len({m["Message-ID"] for m in relay.received}) == 3
    assert {n["state"] for n in await notices.outbox.listing()} == {SENT}


async def test_a_dispatched_ticket_texts_the_unit_once_through_the_gateway(
    filing_desk: TicketDesk, notices: Notices, gateway: Gateway
) -> None:
    ticket, _ = await filing_desk.take_in({**email_intake(1), "channel": "phone", "caller_email": ""}, AGENT)
    await filing_desk.act(ticket["number"], "dispatch", {"unit": "cgj.majiadian"}, AGENT)
    await notices.follow()
    await notices.follow()  # following again decides nothing twice
    await notices.deliver()
    await notices.deliver()
    [message] = gateway.messages
    assert message["to"] == UNIT_MOBILE
    assert message["text"].startswith(f"【12345】新工单 {ticket['number']} 已派发贵单位")
    [shown] = await notices.outbox.listing(ticket=ticket["number"])
    assert (shown["medium"], shown["state"], shown["attempts"]) == ("sms", SENT, 1)


async def test_a_number_the_gateway_refuses_fails_at_once_and_is_not_retried(
    filing_desk: TicketDesk, notices: Notices, gateway: Gateway
) -> None:
    gateway.refuse.add(UNIT_MOBILE)
    ticket, _ = await filing_desk.take_in({**email_intake(1), "channel": "phone", "caller_email": ""}, AGENT)
    await filing_desk.act(ticket["number"], "dispatch", {"unit": "cgj.majiadian"}, AGENT)
    await notices.follow()
    await notices.deliver()
    notices.clock.now += timedelta(hours=1)
    await notices.deliver()
    [shown] = await notices.outbox.listing(ticket=ticket["number"])
    assert (shown["state"], shown["attempts"]) == (FAILED, 1)
    assert "400" in shown["last_error"]
    assert await notices.outbox.listing(state=FAILED) == [shown]


async def test_an_address_the_relay_refuses_fails_for_good_and_stays_out_of_the_log(
    filing_desk: TicketDesk, notices: Notices, relay: Relay, caplog: pytest.LogCaptureFixture
) -> None:
    relay.refuse.add("citizen1@example.cn")
    ticket, _ = await filing_desk.take_in(email_intake(1), AGENT)
    await notices.follow()
    await notices.deliver()
    [shown] = await notices.outbox.listing(ticket=ticket["number"])
    assert shown["state"] == FAILED and "550" in shown["last_error"]
    logged = [record.getMessage() for record in caplog.records]
    assert any(f"notice {shown['id']} failed for good" in line for line in logged)
    assert not any("citizen1" in line for line in logged)


async def test_the_morning_digest_lists_the_nights_mail_and_voicemail_once(
    filing_desk: TicketDesk, notices: Notices, relay: Relay
) -> None:
    morning = filing_desk.clock.now  # 09:00
    filing_desk.clock.now = morning - timedelta(hours=7)  # 02:00: the night
    night, _ = await filing_desk.take_in(email_intake(7), AGENT)
    filing_desk.clock.now = morning  # a call in the day is not the night's
    await filing_desk.take_in({**email_intake(8), "channel": "phone", "caller_email": ""}, AGENT)

    async def mailbox_tickets(start, end):
        where = TicketFilter(accepted_from=start, accepted_to=end)
        return [t for t in await filing_desk.store.list(where) if t.intake.channel.value == "email"]

    notices.digest = Digest(time(8, 0), TZ, mailbox_tickets)
    notices.clock.now = morning - timedelta(hours=1, minutes=30)  # 07:30: not yet
    assert await notices.digest_the_night() == 0
    notices.clock.now = morning  # 09:00
    assert await notices.digest_the_night() == 1
    assert await notices.digest_the_night() == 0  # once a day
    notices.clock.now += timedelta(seconds=1)
    await notices.deliver()
    [digest] = [m for m in relay.received if m["To"] == ON_DUTY[0]]
    assert digest["Subject"] == "11月02日 夜间留言汇总"
    body = digest.get_content()
    assert body.startswith("夜间共收到 1 件留言和来信") and night["number"] in body
    assert "citizen7@example.cn" in body and "citizen8" not in body


async def test_a_first_start_follows_from_now_so_old_tickets_send_nothing(
    filing_desk: TicketDesk, notices: Notices
) -> None:
    await filing_desk.take_in(email_intake(1), AGENT)  # before the first start
    await notices.start(await filing_desk.store.last_event_id())
    await notices.start(0)  # a later start keeps its place
    assert await notices.follow() == 0
    new, _ = await filing_desk.take_in(email_intake(2), AGENT)
    assert await notices.follow() == 1
    assert [n["ticket_number"] for n in await notices.outbox.listing()] == [new["number"]]


async def test_notices_are_queued_although_another_writer_commits_while_they_are_being_queued(engine):
    """On SQLite a transaction that read before it wrote failed ("database is locked") when another one
    committed meanwhile, and the notices it was queueing were lost."""
    outbox = Outbox(engine)
    notice = Notice(
        "T1:dispatched:sms", "20261202000001", Medium.SMS, UNIT_MOBILE, "工单 20261202000001 已派发"
    )
    async with writer(engine).begin() as other:  # someone else queueing at that moment
        await other.execute(insert(NoticeCursorRow).values(name="elsewhere", last_event_id=0))
        queueing = asyncio.create_task(outbox.enqueue([notice], datetime.now(UTC)))
        await asyncio.sleep(1.0)
    assert await queueing == 1
