"""Where the polled mailbox is, from one setting; a wrong one stops the start and names the setting."""

from __future__ import annotations

import dataclasses

import pytest

from hotline.intake.imap_box import ImapAccount, ImapUrlError
from hotline.kernel.runtime.config import ConfigError, Settings
from hotline.plans import Plans


def test_an_imaps_url_names_the_server_user_and_folder() -> None:
    account = ImapAccount.parse("imaps://12345%40city.gov.cn@mail.city.gov.cn/%E7%83%AD%E7%BA%BF")
    assert account == ImapAccount("mail.city.gov.cn", 993, "12345@city.gov.cn", "热线", tls=True)
    assert ImapAccount.parse("imap://hotline@127.0.0.1:14143") == ImapAccount(
        "127.0.0.1", 14143, "hotline", "INBOX", tls=False
    )


@pytest.mark.parametrize("url", ["pop3://a@b/", "imaps://mail.city.gov.cn/INBOX", "mail.city.gov.cn"])
def test_a_url_without_scheme_user_or_host_is_refused(url: str) -> None:
    with pytest.raises(ImapUrlError):
        ImapAccount.parse(url)
    with pytest.raises(ConfigError, match="HOTLINE_IMAP_URL"):
        Plans.of(dataclasses.replace(Settings(), imap_url=url))
