"""Citizens' emails, sent over real SMTP to the controller's mailbox, become tickets with their files."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage

import aiosmtplib
import pytest

from hotline.intake.mailbox import Mailbox, MailboxHandler
from hotline.intake.service import IntakeDesk
from hotline.kernel.api.identity import Actor, Role
from hotline.ticketing.service import TicketDesk
from hotline.ticketing.store import TicketFilter
from tests.unit.intake.mails import HOTLINE, gbk_mail, utf8_mail_with_photo

AGENT = Actor("agent1", Role.AGENT)


@pytest.fixture
async def mailbox(filing_desk: TicketDesk):
    box = Mailbox("127.0.0.1", 0, MailboxHandler([HOTLINE], IntakeDesk(filing_desk).take_in_email))
    await box.start()
    yield box
    await box.close()


async def send(box: Mailbox, message: bytes | EmailMessage) -> tuple[dict, str]:
    return await aiosmtplib.send(
        message, sender="citizen@example.cn", recipients=[HOTLINE], hostname="127.0.0.1", port=box.port
    )


async def ticket_of(desk: TicketDesk, reply: str) -> dict:
    """The ticket the mailbox named in its 250 reply."""
    return await desk.show(reply.split()[-1], AGENT)


async def test_a_gbk_mail_labelled_gb2312_becomes_a_ticket_due_an_answer_in_24_hours(
    mailbox: Mailbox, filing_desk: TicketDesk
) -> None:
    _, reply = await send(mailbox, gbk_mail())
    ticket = await ticket_of(filing_desk, reply)
    intake = ticket["intake"]
    assert (intake["channel"], ticket["status_label"]) == ("email", "待分办")
    assert intake["description"] == "【主题】道路塌陷\n\n朱镕基大道路面塌陷，车辆无法通行，请尽快处理。"
    assert (intake["caller_name"], intake["caller_email"]) == ("王祎", "wangyi@example.cn")
    accepted = filing_desk.clock()
    assert ticket["dispatch_due"] == (accepted + timedelta(hours=24)).isoformat()


async def test_a_utf8_mail_keeps_its_photo_and_says_which_file_was_refused(
    mailbox: Mailbox, filing_desk: TicketDesk
) -> None:
    _, reply = await send(mailbox, utf8_mail_with_photo())
    ticket = await ticket_of(filing_desk, reply)
    assert [f["name"] for f in ticket["attachments"]] == ["现场.jpg"]
    assert "【未保存的附件】a.exe" in ticket["intake"]["description"]
    path, _ = await filing_desk.attachment(ticket["number"], ticket["attachments"][0]["sha256"], AGENT)
    assert path.read_bytes() == b"\xff\xd8\xff\xe0JFIF-photo"


async def test_a_resent_mail_finds_its_ticket_and_adds_nothing(
    mailbox: Mailbox, filing_desk: TicketDesk
) -> None:
    _, first = await send(mailbox, utf8_mail_with_photo())
    _, again = await send(mailbox, utf8_mail_with_photo())
    assert first.split()[-1] == again.split()[-1]
    assert len(await filing_desk.list(AGENT, TicketFilter())) == 1
    assert len((await ticket_of(filing_desk, again))["attachments"]) == 1


async def test_mail_for_anyone_else_is_refused_so_the_mailbox_relays_nothing(mailbox: Mailbox) -> None:
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused):
        await aiosmtplib.send(
            gbk_mail(),
            sender="a@example.cn",
            recipients=["victim@example.com"],
            port=mailbox.port,
            hostname="127.0.0.1",
        )


async def test_a_mail_that_cannot_be_written_is_deferred_and_lands_on_the_resend(
    filing_desk: TicketDesk,
) -> None:
    attempts = []

    async def database_down_once(raw: bytes) -> tuple[str, bool]:
        attempts.append(raw)
        if len(attempts) == 1:
            raise ConnectionRefusedError("database unreachable")
        return await IntakeDesk(filing_desk).take_in_email(raw)

    box = Mailbox("127.0.0.1", 0, MailboxHandler([HOTLINE], database_down_once))
    await box.start()
    try:
        with pytest.raises(aiosmtplib.SMTPDataError) as refused:
            await send(box, gbk_mail())
        assert refused.value.code == 451  # the sender's server keeps the mail and tries again
        _, reply = await send(box, gbk_mail())
        assert (await ticket_of(filing_desk, reply))["intake"]["caller_email"] == "wangyi@example.cn"
    finally:
        await box.close()


def complaint_mail() -> EmailMessage:
    """The issue's mail: subject 投诉, a street of the city named in the text, a phone number in the body."""
    message = EmailMessage()
    message["From"] = "赵六 <zhaoliu@example.cn>"
    message["To"] = HOTLINE
    message["Subject"] = "投诉"
    message["Message-ID"] = "<complaint-1@example.cn>"
    message.set_content("马家店街道团结路的饭店天天占道经营，从3月5号开始一直这样。请回电 139 1234 5678。")
    return message


async def test_a_complaint_mail_naming_a_street_is_a_complaint_there_with_its_phone_each_marked_guessed(
    mailbox: Mailbox, filing_desk: TicketDesk
) -> None:
    _, reply = await send(mailbox, complaint_mail())
    ticket = await ticket_of(filing_desk, reply)
    intake = ticket["intake"]
    assert (ticket["type_label"], intake["category"], intake["region"]) == (
        "投诉",
        "urban.management",  # 市容市貌（占道经营、违章搭建）
        "zj.majiadian",  # 马家店街道, not the whole city
    )
    assert (intake["caller_phone"], intake["callback_phone"]) == ("13912345678", "13912345678")
    # The caller's own number, taken from the words, is no mention of someone else's.
    assert (intake["phones_mentioned"], intake["dates_mentioned"]) == ([], ["3月5号"])
    assert intake["places_mentioned"] == ["马家店街道"] and intake["emergency"] is None
    assert intake["guessed"] == [
        "ticket_type",
        "category",
        "region",
        "caller_phone",
        "callback_phone",
        "places_mentioned",
        "dates_mentioned",
    ]
    assert ticket["suggested_unit"] == "cgj.majiadian", "routed to the street's own unit"
    assert intake["caller_email"] == "zhaoliu@example.cn", "what the mail said is kept as it was"
