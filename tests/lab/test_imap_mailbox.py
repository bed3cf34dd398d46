"""The hotline's address on the deployment's own mail server (Dovecot, over IMAP): the controller polls it,
and each mail becomes a ticket once, however often the controller restarts."""

from __future__ import annotations

import asyncio
import imaplib
import time

from hotline.lab.controller import ControllerProcess
from hotline.lab.imap import ImapServer
from tests.lab.conftest import api
from tests.unit.intake.mails import gbk_mail, utf8_mail_with_photo

USER, PASSWORD = "12345", "imap-test-password"


def this_runs_mails() -> list[bytes]:
    """The GBK and the UTF-8 mail, with ids of this run (the lab's database keeps every run's tickets)."""
    run = time.time_ns()
    photo = utf8_mail_with_photo()
    photo.replace_header("Message-ID", f"<photo-{run}@example.cn>")
    return [gbk_mail().replace(b"<gbk-1@example.cn>", f"<gbk-{run}@example.cn>".encode()), photo.as_bytes()]


def unseen(port: int) -> list[bytes]:
    connection = imaplib.IMAP4("127.0.0.1", port, timeout=10)
    try:
        connection.login(USER, PASSWORD)
        connection.select("INBOX")
        return connection.uid("SEARCH", "UNSEEN")[1][0].split()
    finally:
        connection.logout()


async def all_read(port: int) -> None:
    async with asyncio.timeout(30):
        while await asyncio.to_thread(unseen, port):
            await asyncio.sleep(0.5)


async def email_tickets(base_url: str, token: str) -> list[dict]:
    status, tickets = await api("GET", f"{base_url}/api/tickets?channel=email&limit=500", token)
    assert status == 200, tickets
    return tickets


async def test_mail_in_the_imap_mailbox_becomes_a_ticket_once_and_is_marked_seen(
    lab, lab_env, block, controller, settings, supervisor_token, tmp_path
):
    server = ImapServer(lab.root, f"{block.instance_root}/imap", block.imap_port, tmp_path)
    server.start(USER, PASSWORD)
    before = len(await email_tickets(controller.base_url, supervisor_token))
    controller.stop()
    env = {
        **lab_env,
        "HOTLINE_IMAP_URL": f"imap://{USER}@127.0.0.1:{block.imap_port}/INBOX",
        "HOTLINE_IMAP_PASSWORD": PASSWORD,
        "HOTLINE_IMAP_POLL_SECONDS": "1",
    }
    polling = ControllerProcess(env, settings, tmp_path / "imap.log")
    mails = this_runs_mails()
    try:
        for raw in mails:
            server.deliver(USER, raw)
        polling.start()
        async with asyncio.timeout(60):
            while len(await email_tickets(polling.base_url, supervisor_token)) < before + 2:
                await asyncio.sleep(0.5)
        await all_read(block.imap_port)
        # The same mails unread again (a mail server restored from a backup), read by a new controller.
        for raw in mails:
            server.deliver(USER, raw)
        polling.stop()
        polling.start()
        # A mail is marked seen only once its ticket is taken in (intake/imap_box.py): all read, all filed.
        await all_read(block.imap_port)
        tickets = await email_tickets(polling.base_url, supervisor_token)
        shown = [
            (await api("GET", f"{polling.base_url}/api/tickets/{t['number']}", supervisor_token))[1]
            for t in tickets[:2]  # newest first
        ]
    finally:
        polling.stop()
        server.stop()
        controller.start()  # the fixture stops what it started
    assert len(tickets) == before + 2
    texts = sorted(ticket["intake"]["description"] for ticket in shown)
    assert "朱镕基大道路面塌陷" in texts[1] and "垃圾三天没人清运" in texts[0], texts
    assert [f["name"] for t in shown for f in t["attachments"]] == ["现场.jpg"]
