"""The mailbox's certificate: the deployment's own when it names one, else one made once and kept."""

from __future__ import annotations

import ssl

import pytest

from hotline.intake.mail_tls import CERTIFICATE, FOLDER, KEY, self_signed, server_tls
from hotline.kernel.runtime.config import ConfigError


def test_a_named_certificate_is_used_and_nothing_is_made(tmp_path) -> None:
    cert, key = self_signed(tmp_path / "issued", "mail.example.gov.cn")
    context = server_tls(str(cert), str(key), tmp_path / "home", "hotline.local")
    assert isinstance(context, ssl.SSLContext)
    assert not (tmp_path / "home" / FOLDER).exists()


def test_without_one_a_certificate_is_made_once_with_its_key_for_the_owner_alone(tmp_path) -> None:
    server_tls("", "", tmp_path, "hotline.local")
    folder = tmp_path / FOLDER
    made = (folder / CERTIFICATE).read_bytes(), (folder / KEY).read_bytes()
    assert (folder.stat().st_mode & 0o777, (folder / KEY).stat().st_mode & 0o777) == (0o700, 0o600)
    server_tls("", "", tmp_path, "hotline.local")
    assert ((folder / CERTIFICATE).read_bytes(), (folder / KEY).read_bytes()) == made


@pytest.mark.parametrize(("cert", "key"), [("/nowhere/mail.crt", "/nowhere/mail.key"), ("/etc/hostname", "")])
def test_a_certificate_that_cannot_be_used_stops_the_start_with_its_setting_named(
    cert, key, tmp_path
) -> None:
    with pytest.raises(ConfigError, match=r"mail TLS|MAIL_TLS"):
        server_tls(cert, key, tmp_path, "hotline.local")
