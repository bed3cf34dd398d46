"""Attachment names and the attach command: no path tricks, only evidence types, only on live tickets."""

from __future__ import annotations

import pytest

from hotline.ticketing.attachments import clean_name
from hotline.ticketing.errors import TicketError
from tests.unit.ticketing.desk import AGENT, CITY_MGMT, SUPERVISOR, WATER, Desk

FILE = {"sha256": "a" * 64, "name": "照片.jpg", "size": 1024, "content_type": "image/jpeg"}


@pytest.mark.parametrize(
    ("raw", "name", "content_type"),
    [
        ("现场照片.JPG", "现场照片.JPG", "image/jpeg"),
        ("../../etc/passwd.txt", "passwd.txt", "text/plain"),
        ("C:\\Users\\me\\合同.pdf", "合同.pdf", "application/pdf"),
        ("%E5%90%88%E5%90%8C.pdf", "合同.pdf", "application/pdf"),
        ("bad\x00name.png", "badname.png", "image/png"),
    ],
)
def test_names_lose_their_folders_and_keep_their_type(raw: str, name: str, content_type: str) -> None:
    assert clean_name(raw) == (name, content_type)


@pytest.mark.parametrize(("raw", "error_id"), [("run.exe", "attachment-type-refused"), ("", "invalid-field")])
def test_programs_and_nameless_files_are_refused(raw: str, error_id: str) -> None:
    with pytest.raises(TicketError) as caught:
        clean_name(raw)
    assert caught.value.error_id == error_id


def test_attach_records_the_file_and_who_sent_it_until_the_ticket_is_archived() -> None:
    desk = Desk().signed()
    desk.do(CITY_MGMT, "attach", **FILE, reason="整改后照片")
    [file] = desk.ticket.attachments
    assert (file["name"], file["by"], file["unit"]) == ("照片.jpg", CITY_MGMT.name, "cgj")
    with pytest.raises(TicketError, match="不由 water 承办"):
        desk.do(WATER, "attach", **FILE)
    with pytest.raises(TicketError, match="size"):
        desk.do(AGENT, "attach", **{**FILE, "size": 0})
    with pytest.raises(TicketError, match="sha256"):
        desk.do(AGENT, "attach", **{**FILE, "sha256": "../x"})
    desk.replied().do(AGENT, "record_callback", result="满意")
    with pytest.raises(TicketError, match=r"\(archived\)"):
        desk.do(SUPERVISOR, "attach", **FILE)
