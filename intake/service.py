"""The intake desk: a citizen's email or gateway message, read and handed to the ticket desk.

Every channel ends in the ticket desk's ``take_in`` (a message with its
fields) or ``take_in_with_files`` (one with files); what is a channel's own,
reading a mail's bytes or a gateway's message, stays here. A message nobody
has classified waits under topic 其他 for the whole city, for an agent.
"""

from __future__ import annotations

from typing import Any

from hotline.intake import mail_intake, webhooks
from hotline.intake.mail_reader import ReadMail, in_thread
from hotline.kernel.api.identity import Actor, Role
from hotline.ticketing.service import GATEWAY_SUFFIX, GUESSED_AS, UNCLASSIFIED_CATEGORY, TicketDesk

#: What a gateway's message may leave for the platform to guess (its own names for them).
GATEWAY_GUESSABLE = ("type", "category", "region", "phone")


class IntakeDesk:
    """Where the mailboxes and the gateways' route hand a citizen's message."""

    def __init__(self, desk: TicketDesk, read_mail: ReadMail = in_thread) -> None:
        self.desk = desk
        #: How a mail's bytes become its intake, off the event loop (the root gives a process of its own).
        self.read_mail = read_mail

    async def where_unclassified(self) -> tuple[str, str]:
        """Where a message nobody has classified yet waits: topic 其他, the whole city."""
        return UNCLASSIFIED_CATEGORY, await self.desk.directory.root_region()

    async def take_in_message(self, channel_name: str, message: Any) -> tuple[dict[str, Any], bool]:
        """A citizen's SMS or WeChat message from a gateway (already verified); idempotent on message_id."""
        channel = webhooks.channel_of(channel_name)
        category, region = await self.where_unclassified()
        data = webhooks.intake_from_message(channel, message, category, region)
        unsaid = {GUESSED_AS.get(key, key) for key in GATEWAY_GUESSABLE if not message.get(key)}
        view, created = await self.desk.take_in(
            data, Actor(f"{channel.value}{GATEWAY_SUFFIX}", Role.AGENT), signed=True, unsaid=unsaid
        )
        return {"number": view["number"], "status": view["status"], "created": created}, created

    async def take_in_email(self, raw: bytes) -> tuple[str, bool]:
        """A citizen's email; returns the ticket's number and whether it is new."""
        mail = await self.read_mail(raw, *await self.where_unclassified())
        return await self.desk.take_in_with_files(mail.intake, mail.files, mail_intake.VIA, "邮件附件")
