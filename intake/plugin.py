"""Citizens' messages wired from the core: email (SMTP and IMAP, read in a process of its own so a hostile
mail cannot stall the event loop), the SMS and WeChat gateways' webhook, and voicemails, each becoming a
ticket before it is acknowledged."""

from __future__ import annotations

import dataclasses
import functools
from datetime import tzinfo

from hotline.intake.http import INTAKE_ROUTES, add_intake
from hotline.intake.imap_box import ImapAccount, ImapMailbox
from hotline.intake.mail_reader import MailReader
from hotline.intake.mailbox import citizens_mailbox
from hotline.intake.service import IntakeDesk
from hotline.intake.voicemail import VoicemailBox
from hotline.kernel.wiring import Deps, Plugin, Round, Server
from hotline.recordings.shelf import RecordingShelf
from hotline.speech.transcripts import Transcripts
from hotline.ticketing.service import TicketDesk

#: A voicemail becomes a ticket moments after the caller hangs up.
VOICEMAIL_SECONDS = 5.0


@dataclasses.dataclass(frozen=True)
class Intake:
    desk: IntakeDesk
    plugin: Plugin


def setup(
    deps: Deps,
    desk: TicketDesk,
    recordings: RecordingShelf,
    transcripts: Transcripts,
    imap: ImapAccount | None,
    zone: tzinfo,
) -> Intake:
    settings = deps.settings
    reader = MailReader()
    intake = IntakeDesk(desk, reader.read)
    mailbox = citizens_mailbox(settings, intake.take_in_email)
    voicemail = VoicemailBox(
        settings.host_path(settings.voicemail_inbox),
        desk,
        recordings,
        intake.where_unclassified,
        zone,
        transcripts.of_file if transcripts.enabled else None,
    )
    rounds = [Round(VOICEMAIL_SECONDS, voicemail.collect, "voicemail box")]
    if imap is not None:
        imap_box = ImapMailbox(imap, settings.imap_password, intake.take_in_email)
        rounds.append(Round(settings.imap_poll_seconds, imap_box.collect, "IMAP mailbox"))
    plugin = Plugin(
        "intake",
        routes=INTAKE_ROUTES,
        app_keys=functools.partial(add_intake, desk=intake, webhook_secret=settings.webhook_secret),
        servers=[Server("mail (SMTP)", settings.smtp_port, mailbox.start)],
        rounds=rounds,
        stop=[("mailbox", mailbox.close)],
        finish=[("mail reader", reader.close)],  # after the IMAP round, the last to read
    )
    return Intake(intake, plugin)
