"""Mails read in a process of their own: the same intake as in the controller's, refusals intact, and a
worker that died replaced at the next mail."""

from __future__ import annotations

import os
import signal
from concurrent.futures.process import BrokenProcessPool

import pytest

from tests.unit.ticketing.test_mail_intake import nested, raw_mail
from ticketing.mail_intake import MailRefused, read_mail
from ticketing.mail_reader import MailReader


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
