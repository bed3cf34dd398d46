"""Which ticket events tell whom what. Pure: an event and its ticket in, notices out.

Units hear of a new ticket (分办提醒), a reminder (催办), supervision (督办) and
a refused return, by SMS to the unit's mobile. Citizens get their ticket
number on intake, the answer when it is approved and any word an agent sends
them: by email when they gave an address (every email request has one), by
SMS when they gave a mobile number and agreed to notices.
The on-duty mailboxes get each voicemail with its recording, once the recording
is on its ticket, and each morning a digest of the night's voicemails and emails.
Every notice has a key made of the event's id, so deciding twice enqueues once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from enum import StrEnum

from hotline.intake.voicemail import VIA as VOICEMAIL
from hotline.ticketing.service import GATEWAY_SUFFIX
from hotline.ticketing.vocabulary import Channel as TicketChannel
from hotline.ticketing.workflow import Event, Ticket

MOBILE = re.compile(r"^(?:\+?86)?1[3-9]\d{9}$")
SMS_SIGNATURE = "【12345】"
SMS_EXCERPT = 60
SMS_REPLY_LIMIT = 300
#: How a citizen is greeted by email: never by the name on the ticket, which for a mail is whatever its
#: From header said (an official mail must not carry a stranger's words to the address they named).
GREETING = "尊敬的市民，您好："
#: The event whose notice tells the citizen their ticket's number (the acknowledgement).
ACKNOWLEDGED = "received"
#: Who a voicemail's ticket and recording are recorded as (``ticketing.service.take_in_with_files``).
VOICEMAIL_INTAKE = VOICEMAIL + GATEWAY_SUFFIX


class Medium(StrEnum):
    SMS = "sms"
    EMAIL = "email"


@dataclass(frozen=True)
class Notice:
    key: str
    ticket_number: str
    medium: Medium
    recipient: str
    body: str
    subject: str = ""
    #: Files to attach, by the SHA-256 the ticket's attachment store keeps them under.
    files: tuple[Mapping[str, str], ...] = ()


@dataclass(frozen=True)
class Contacts:
    """Where notices can go: the units' mobiles, the on-duty mailboxes, the media the deployment set up."""

    unit_phones: Mapping[str, str] = field(default_factory=dict)
    on_duty: tuple[str, ...] = ()
    media: frozenset[Medium] = frozenset(Medium)


def is_mobile(number: str) -> bool:
    return bool(MOBILE.match(number.replace("-", "").replace(" ", "")))


def _when(moment: datetime | None) -> str:
    return f"{moment:%m月%d日%H:%M}" if moment else "规定时限"


def _excerpt(text: str, limit: int = SMS_EXCERPT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _to_unit(event_id: int, ticket: Ticket, unit: str | None, text: str, contacts: Contacts) -> list[Notice]:
    phone = contacts.unit_phones.get(unit or "", "")
    if Medium.SMS not in contacts.media or not is_mobile(phone):
        return []
    return [Notice(f"e{event_id}:sms:{phone}", ticket.number, Medium.SMS, phone, SMS_SIGNATURE + text)]


def _to_citizen(event_id: int, ticket: Ticket, subject: str, text: str, contacts: Contacts) -> list[Notice]:
    intake = ticket.intake
    notices = []
    if intake.caller_email and Medium.EMAIL in contacts.media:
        notices.append(
            Notice(
                f"e{event_id}:email:{intake.caller_email}",
                ticket.number,
                Medium.EMAIL,
                intake.caller_email,
                f"{GREETING}\n\n{text}\n\n12345 政务服务便民热线",
                subject=subject,
            )
        )
    phone = intake.callback_phone or intake.caller_phone
    if intake.sms_notices and is_mobile(phone) and Medium.SMS in contacts.media:
        short = _excerpt(text, SMS_REPLY_LIMIT)
        notices.append(
            Notice(f"e{event_id}:sms:{phone}", ticket.number, Medium.SMS, phone, SMS_SIGNATURE + short)
        )
    return notices


def _voicemail_to_on_duty(event_id: int, event: Event, ticket: Ticket, contacts: Contacts) -> list[Notice]:
    intake = ticket.intake
    if Medium.EMAIL not in contacts.media or intake.channel != TicketChannel.VOICEMAIL:
        return []
    if event.actor != VOICEMAIL_INTAKE:  # only the recording the voicemail came with, not later files
        return []
    file = event.data["file"]
    return [
        Notice(
            f"e{event_id}:email:{mailbox}",
            ticket.number,
            Medium.EMAIL,
            mailbox,
            f"新的语音留言已生成工单 {ticket.number}，录音见附件。\n\n{intake.description}",
            subject=f"语音留言 {ticket.number}（{intake.caller_phone or '未知号码'}）",
            files=({"sha256": file["sha256"], "name": file["name"]},),
        )
        for mailbox in contacts.on_duty
    ]


def notices_for(event_id: int, event: Event, ticket: Ticket, contacts: Contacts) -> list[Notice]:
    """The notices one ticket event calls for; ``ticket`` is the ticket as it stands now."""
    n = ticket.number
    data = event.data
    match event.kind:
        case "received":
            return _to_citizen(
                event_id,
                ticket,
                f"您的诉求已受理（工单号 {n}）",
                f"您反映的诉求已受理，工单号 {n}。我们将按规定时限办理并答复您。",
                contacts,
            )
        case "dispatched" | "redispatched":
            sign_due = datetime.fromisoformat(data["sign_due"]) if data.get("sign_due") else None
            text = (
                f"新工单 {n} 已派发贵单位，请于{_when(sign_due)}前签收。"
                f"诉求：{_excerpt(ticket.intake.description)}"
            )
            return _to_unit(event_id, ticket, data.get("unit"), text, contacts)
        case "reminded":
            due = datetime.fromisoformat(data["due"]) if data.get("due") else ticket.handling_due
            text = f"催办：工单 {n} 将于{_when(due)}到期，请抓紧办理并答复。"
            return _to_unit(event_id, ticket, ticket.lead_unit, text, contacts)
        case "supervised":
            text = f"督办：工单 {n} 已被督办（{_excerpt(event.reason, 40)}），请立即办理并反馈。"
            return _to_unit(event_id, ticket, ticket.lead_unit, text, contacts)
        case "return_refused":
            text = f"工单 {n} 的退回申请未获同意（{_excerpt(event.reason, 40)}），请继续办理。"
            return _to_unit(event_id, ticket, ticket.lead_unit, text, contacts)
        case "attached":
            return _voicemail_to_on_duty(event_id, event, ticket, contacts)
        case "citizen_messaged":
            return _to_citizen(event_id, ticket, f"关于您的诉求（工单号 {n}）", data["text"], contacts)
        case "answered" | "reply_approved":
            answer = data.get("answer") or ticket.reply
            return _to_citizen(
                event_id, ticket, f"您的诉求已办结（工单号 {n}）", f"工单 {n} 答复如下：\n{answer}", contacts
            )
    return []


def _digest_line(ticket: Ticket, zone: tzinfo) -> str:
    intake = ticket.intake
    reach = intake.caller_phone or intake.caller_email or "未留联系方式"
    at = ticket.accepted_at.astimezone(zone)
    about = _excerpt(intake.description, 40)
    return f"{ticket.number}  {intake.channel.label}  {at:%m-%d %H:%M}  {reach}  {about}"


def night_digest(day: date, tickets: Sequence[Ticket], on_duty: Sequence[str], zone: tzinfo) -> list[Notice]:
    """The morning's one email to each on-duty mailbox: what the night left (voicemails and emails)."""
    if not on_duty:
        return []
    lines = [_digest_line(ticket, zone) for ticket in sorted(tickets, key=lambda t: t.accepted_at)]
    body = (
        f"夜间共收到 {len(tickets)} 件留言和来信，请安排回复和回拨：\n\n" + "\n".join(lines)
        if tickets
        else "夜间没有收到留言和来信。"
    )
    return [
        Notice(
            f"digest:{day.isoformat()}:email:{mailbox}",
            "",
            Medium.EMAIL,
            mailbox,
            body,
            f"{day:%m月%d日} 夜间留言汇总",
        )
        for mailbox in on_duty
    ]
