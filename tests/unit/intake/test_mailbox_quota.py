"""The mailbox's bounds on what one party takes: a day's count of mails by sender that slides, counting
only what was taken in, in a table of bounded size; a client's share of the sessions; and the answer to a
mail the reader fails on."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import aiosmtplib
import pytest
from aiosmtpd.smtp import Envelope

from hotline.intake.mail_intake import MailRefused
from hotline.intake.mailbox import Mailbox, MailboxHandler, MailLimits, SenderQuota

HOTLINE = "12345@hotline.local"


class Seconds:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def take(quota: SenderQuota, sender: str) -> bool:
    """A mail from ``sender`` taken in if the quota allows it."""
    if not quota.allows(sender):
        return False
    quota.count(sender)
    return True


def test_a_sender_over_the_bound_is_refused_until_its_oldest_mail_is_a_window_old() -> None:
    clock = Seconds()
    quota = SenderQuota(limit=3, window=100.0, clock=clock)
    taken = []
    for _ in range(4):
        taken.append(take(quota, "victim@example.cn"))
        clock.now += 10.0
    assert taken == [True, True, True, False]
    assert take(quota, "citizen@example.cn"), "another sender is not held back"
    clock.now = 1099.0
    assert not take(quota, "victim@example.cn")
    clock.now = 1100.0  # the first mail is a window old
    assert take(quota, "victim@example.cn") and not take(quota, "victim@example.cn")


def test_senders_gone_quiet_are_forgotten_so_a_flood_of_new_names_holds_no_memory() -> None:
    clock = Seconds()
    quota = SenderQuota(limit=1, window=10.0, clock=clock)
    for n in range(5000):
        take(quota, f"bot{n}@spam.example")
    clock.now += 11.0
    take(quota, "citizen@example.cn")
    assert len(quota._taken) == 1


def test_the_senders_table_keeps_at_most_its_bound_forgetting_the_least_recent() -> None:
    """Past the bound, each mail used to rebuild the whole table; now the least recent sender goes."""
    quota = SenderQuota(limit=1, window=100.0, clock=Seconds(), kept=3)
    for sender in ("a@x.cn", "b@x.cn", "c@x.cn", "d@x.cn"):
        take(quota, sender)
    assert list(quota._taken) == ["b@x.cn", "c@x.cn", "d@x.cn"]
    assert take(quota, "a@x.cn") and not take(quota, "d@x.cn")


def envelope(raw: bytes) -> Envelope:
    mail = Envelope()
    mail.mail_from, mail.rcpt_tos, mail.original_content = "bounce@example.cn", [HOTLINE], raw
    return mail


def mail(n: int) -> bytes:
    return f"From: citizen@example.cn\r\nMessage-ID: <{n}@example.cn>\r\n\r\n路灯不亮".encode()


async def test_only_mails_taken_in_count_against_their_sender() -> None:
    """A retry after 451, or a resend of a mail already taken in, is the same mail: it used to count, so a
    sender whose mails met a passing failure was refused for the day."""
    made: set[bytes] = set()
    failures = iter([RuntimeError("database down")] * 3)

    async def take_in(raw: bytes) -> tuple[str, bool]:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        new = raw not in made
        made.add(raw)
        return "20260101-0001", new

    handler = MailboxHandler([HOTLINE], take_in, SenderQuota(limit=2))
    answers = [await handler.handle_DATA(None, None, envelope(mail(1))) for _ in range(5)]  # type: ignore[arg-type]
    assert [answer[:3] for answer in answers] == ["451"] * 3 + ["250"] * 2
    assert (await handler.handle_DATA(None, None, envelope(mail(2))))[:3] == "250"  # type: ignore[arg-type]
    assert (await handler.handle_DATA(None, None, envelope(mail(3))))[:3] == "550"  # type: ignore[arg-type]


async def test_a_mail_the_parser_fails_on_is_refused_for_good_and_a_fault_of_ours_is_put_off(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def unreadable(raw: bytes) -> tuple[str, bool]:
        raise MailRefused("mail-unreadable", "无法读取此邮件", cause="RecursionError")

    async def buggy(raw: bytes) -> tuple[str, bool]:
        raise AttributeError("a bug of ours")

    caplog.set_level(logging.INFO, "hotline.intake.mailbox")
    refused = await MailboxHandler([HOTLINE], unreadable).handle_DATA(None, None, envelope(mail(1)))  # type: ignore[arg-type]
    assert refused == "554 5.6.0 mail-unreadable"
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "RecursionError" in warning.getMessage() and "citizen@example.cn" not in warning.getMessage()
    put_off = await MailboxHandler([HOTLINE], buggy).handle_DATA(None, None, envelope(mail(1)))  # type: ignore[arg-type]
    assert put_off.startswith("451 ")
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert error.exc_info and error.exc_info[0] is AttributeError, "the traceback is in the log"


@pytest.fixture
async def mailbox() -> AsyncIterator[Mailbox]:
    async def take_in(raw: bytes) -> tuple[str, bool]:
        return "20260101-0001", True

    box = Mailbox("127.0.0.1", 0, MailboxHandler([HOTLINE], take_in), limits=MailLimits(sessions=8))
    await box.start()
    yield box
    await box.close()


def client(box: Mailbox, address: str) -> aiosmtplib.SMTP:
    return aiosmtplib.SMTP(
        hostname="127.0.0.1", port=box.port, start_tls=False, source_address=(address, 0), timeout=10
    )


async def test_one_client_holding_sessions_idle_leaves_the_others_theirs(mailbox: Mailbox) -> None:
    """Eight idle sessions from one address used to shut every other sender out."""
    held = [client(mailbox, "127.0.0.1") for _ in range(MailLimits().sessions_per_client)]
    try:
        for session in held:
            await session.connect()
        with pytest.raises(aiosmtplib.SMTPConnectResponseError) as busy:
            await client(mailbox, "127.0.0.1").connect()
        assert busy.value.code == 421  # temporary: its server tries again later
        other = client(mailbox, "127.0.0.2")
        await other.connect()
        await other.sendmail("c@example.cn", [HOTLINE], b"From: c@example.cn\r\n\r\nhi")
        await other.quit()
        await held.pop().quit()
        await asyncio.sleep(0.1)  # the server sees the session end
        again = client(mailbox, "127.0.0.1")
        await again.connect()  # the client's share is free again
        await again.quit()
    finally:
        for session in held:
            await session.quit()
