"""Mails read in a process of their own: the same intake as in the controller's, refusals intact, a
worker that died replaced at the next mail, a mail read too long or killing the worker refused for good."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from concurrent.futures.process import BrokenProcessPool

import pytest

from hotline.intake.mail_intake import MailIntake, MailRefused, read_mail
from hotline.intake.mail_reader import MailReader
from tests.unit.intake.mails import nested, raw_mail


@pytest.fixture
async def reader():
    reader = MailReader()
    yield reader
    await reader.close()


async def test_a_mail_read_in_the_worker_is_the_mail_read_here(reader: MailReader) -> None:
    raw = raw_mail("gbk", "base64", label="gb2312")
    assert await reader.read(raw, "other", "city") == read_mail(raw, "other", "city")


async def test_a_refusal_crosses_back_as_it_was_made(reader: MailReader) -> None:
    with pytest.raises(MailRefused) as refused:
        await reader.read(nested(2000), "other", "city")
    assert (refused.value.error_id, refused.value.too_big, refused.value.status) == (
        "mail-too-nested",
        True,
        413,
    )


async def test_a_worker_that_died_fails_its_mail_for_now_and_the_next_mail_has_another(
    reader: MailReader,
) -> None:
    raw = raw_mail("utf-8", "base64")
    await reader.read(raw, "other", "city")
    [worker] = reader._pool._processes.values()  # what the kernel's OOM killer would pick
    os.kill(worker.pid, signal.SIGKILL)
    worker.join()
    with pytest.raises(BrokenProcessPool):
        await reader.read(raw, "other", "city")
    assert (await reader.read(raw, "other", "city")).intake["caller_email"] == "zhangsan@example.cn"


#: What marks the test's mails for the readers below (which otherwise read as the controller's does).
SLOW, FATAL = b"X-Test: slow\r\n", b"X-Test: fatal\r\n"
#: The time bound the tests give a reader; a reader stuck past it would be refused only after minutes.
BOUND = 1.0


def read_or_hang(raw: bytes, category: str, region: str) -> MailIntake:
    """Reads as the worker does, but hangs on a mail marked slow (as one the parser takes minutes over)."""
    if raw.startswith(SLOW):
        time.sleep(3600)
    return read_mail(raw, category, region)


def read_or_die(raw: bytes, category: str, region: str) -> MailIntake:
    """Reads as the worker does, but dies on a mail marked fatal (as the kernel kills a worker out of
    memory)."""
    if raw.startswith(FATAL):
        os.kill(os.getpid(), signal.SIGKILL)
    return read_mail(raw, category, region)


async def test_a_mail_read_past_the_time_bound_is_refused_for_good_and_the_next_is_read() -> None:
    reader = MailReader(seconds=BOUND, read=read_or_hang)
    raw = raw_mail("utf-8", "base64")
    try:
        await reader.read(raw, "other", "city")  # the worker started before the clock runs
        started = time.monotonic()
        with pytest.raises(MailRefused) as refused:
            await asyncio.wait_for(reader.read(SLOW + raw, "other", "city"), BOUND + 10)
        assert time.monotonic() - started < BOUND + 10
        assert (refused.value.error_id, refused.value.too_big) == ("mail-too-slow", False)
        intake = await asyncio.wait_for(reader.read(raw, "other", "city"), 30)
        assert intake.intake["caller_email"] == "zhangsan@example.cn"
    finally:
        await asyncio.wait_for(reader.close(), 30)  # the stuck worker does not hold the shutdown


async def test_a_mail_that_kills_the_worker_twice_is_refused_for_good() -> None:
    reader = MailReader(read=read_or_die)
    raw = raw_mail("utf-8", "base64")
    try:
        with pytest.raises(BrokenProcessPool):  # for now: a worker may die of another's load
            await reader.read(FATAL + raw, "other", "city")
        with pytest.raises(MailRefused) as refused:
            await reader.read(FATAL + raw, "other", "city")
        assert refused.value.error_id == "mail-kills-reader" and not refused.value.too_big
        with pytest.raises(BrokenProcessPool):  # another mail has its own first chance
            await reader.read(FATAL + raw + b"!", "other", "city")
        assert (await reader.read(raw, "other", "city")).intake["caller_email"] == "zhangsan@example.cn"
    finally:
        await reader.close()
