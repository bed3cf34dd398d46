"""A citizen's email, as an intake and its files. Pure: bytes in, fields out.

Mail clients in China send UTF-8, GBK, GB18030 or Big5, in quoted-printable
or base64, with RFC 2047 words in the headers, and some still label GBK text
"gb2312": every Chinese label is read as its superset, and text that is not
what its label says is read as UTF-8 or GB18030 before any character is
replaced. The message's own id makes a resend find the ticket it already made.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
from dataclasses import dataclass
from email.header import Header, decode_header
from email.message import Message
from email.utils import parseaddr
from html.parser import HTMLParser
from typing import Any

from ticketing.attachments import IntakeFile
from ticketing.vocabulary import Channel
from ticketing.workflow import DESCRIPTION_LIMIT, EMAIL

#: The channel's name in the ticket's source ("email-gateway": reserved to the controller's own mailbox,
#: so nobody can claim a message id through the API first).
VIA = "email"
ID_LIMIT = 80
#: Labels read as the superset encoding that also decodes everything the label promises.
SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "cp936": "gb18030",
    "x-gbk": "gb18030",
    "big5": "big5hkscs",
}
FALLBACKS = ("utf-8", "gb18030")
BLANK_LINES = re.compile(r"\n\s*\n\s*\n+")


@dataclass(frozen=True)
class MailIntake:
    """The fields ``parse_intake`` takes, and the files to store before the ticket names them."""

    intake: dict[str, Any]
    files: tuple[IntakeFile, ...]


def decode_text(raw: bytes, label: str | None) -> str:
    """Bytes in the charset the sender named, or the first that fits; never an exception."""
    names = [SUPERSETS.get(label.lower(), label.lower())] if label else []
    for name in (*names, *FALLBACKS):
        try:
            return raw.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
    return raw.decode("utf-8", errors="replace")


def header_text(value: Any) -> str:
    """A header's text: RFC 2047 words decoded, raw 8-bit bytes (some clients send them) read leniently."""
    if value is None:
        return ""
    parts = []  # a Header object (8-bit bytes, as compat32 keeps them) is decoded as it is, not via str()
    for chunk, label in decode_header(value if isinstance(value, Header) else str(value)):
        if isinstance(chunk, str):  # no encoded words: raw bytes arrive as surrogate escapes
            chunk = chunk.encode("utf-8", "surrogateescape")
        parts.append(decode_text(chunk, label))
    return "".join(parts).strip()


class _TextOfHtml(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style"):
            self._skipping += 1
        elif tag in ("br", "p", "div", "tr", "li"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skipping:
            self._skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_text(html: str) -> str:
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    return decode_text(payload, part.get_content_charset()) if isinstance(payload, bytes) else ""


def _file_name(part: Message) -> str:
    raw = part.get_param("filename", header="content-disposition") or part.get_param("name")
    if raw is None:
        return ""
    if isinstance(raw, tuple):  # RFC 2231: (charset, language, value)
        charset, _, value = raw
        return decode_text(value.encode("latin-1", "surrogateescape"), charset)
    return header_text(raw)


def _message_id(message: Message, raw: bytes) -> str:
    """The sender's id of this message, short enough for the ticket's key; the content's hash without one."""
    found = header_text(message.get("Message-ID")).strip("<> ")
    if not found:
        return "sha256:" + hashlib.sha256(raw).hexdigest()
    return found if len(found) <= ID_LIMIT else "sha256:" + hashlib.sha256(found.encode()).hexdigest()


def read_mail(raw: bytes, category: str, region: str) -> MailIntake:
    """The intake of one email (type 其他, waiting for an agent to classify it) and its attached files."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    plain: list[str] = []
    html: list[str] = []
    files: list[IntakeFile] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        name = _file_name(part)
        if name or part.get_content_disposition() == "attachment":
            content = part.get_payload(decode=True)
            if isinstance(content, bytes) and content:
                files.append(IntakeFile(name or "附件", content))
        elif part.get_content_type() == "text/plain":
            plain.append(_part_text(part))
        elif part.get_content_type() == "text/html":
            html.append(html_text(_part_text(part)))
    subject = header_text(message.get("Subject"))
    body = "\n".join(plain) if plain else "\n".join(html)
    body = BLANK_LINES.sub("\n\n", body.replace("\r\n", "\n")).strip()
    description = "\n\n".join(text for text in (f"【主题】{subject}" if subject else "", body) if text)
    sender_name, sender_address = parseaddr(header_text(message.get("From")))
    return MailIntake(
        intake={
            "type": "other",
            "channel": Channel.EMAIL.value,
            "description": (description or "（空邮件）")[:DESCRIPTION_LIMIT],
            "category": category,
            "region": region,
            "caller_name": sender_name[:50],
            "caller_email": sender_address if EMAIL.match(sender_address) else "",
            "external_id": _message_id(message, raw),
        },
        files=tuple(files),
    )
