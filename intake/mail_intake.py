"""A citizen's email, as an intake and its files. Pure: bytes in, fields out.

Mail clients in China send UTF-8, GBK, GB18030 or Big5, in quoted-printable
or base64, with RFC 2047 words in the headers, and some still label GBK text
"gb2312": every Chinese label is read as its superset, and text that is not
what its label says is read as UTF-8 or GB18030 before any character is
replaced. A resend is the same sender's same Message-ID, and finds the ticket
it already made.

Anyone can write to the hotline, so what a mail may ask of the reader is
bounded: only text charsets are decoded (Python also knows ``punycode``,
quadratic in the text's length, and ``unicode_escape``, which writes any
character the sender likes), control characters are dropped, and the nesting,
the parts and the files of one mail are counted. A mail over a bound is
refused for good (``MailRefused``): the same bytes would be refused again.
"""

from __future__ import annotations

import codecs
import email
import email.errors
import email.policy
import hashlib
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.header import Header, decode_header
from email.message import Message
from email.parser import BytesHeaderParser
from email.utils import parseaddr
from itertools import islice
from typing import Any

import lxml.etree
import lxml.html

from hotline.ticketing.attachments import IntakeFile
from hotline.ticketing.errors import TicketError
from hotline.ticketing.vocabulary import Channel
from hotline.ticketing.workflow import DESCRIPTION_LIMIT, EMAIL

#: The channel's name in the ticket's source ("email-gateway": reserved to the controller's own mailbox,
#: so nobody can claim a message id through the API first).
VIA = "email"
#: Labels read as the superset encoding that also decodes everything the label promises.
SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "cp936": "gb18030",
    "x-gbk": "gb18030",
    "big5": "big5hkscs",
}
#: The charsets a mail may be written in (Python's names for them): Unicode, the Chinese sets, Latin and
#: the neighbours' sets. Every one decodes in time proportional to the text.
CHARSETS = frozenset(
    codecs.lookup(name).name
    for name in (
        *("utf-8", "utf-8-sig", "ascii", "gb2312", "gbk", "gb18030", "big5", "big5hkscs", "cp950"),
        *(f"iso-8859-{n}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 14, 15, 16)),
        *(f"windows-{n}" for n in range(1250, 1259)),
        *("koi8-r", "koi8-u", "euc-jp", "shift_jis", "cp932", "iso-2022-jp", "euc-kr", "cp949"),
    )
)
FALLBACKS = ("utf-8", "gb18030")
BLANK_LINES = re.compile(r"\n\s*\n\s*\n+")
#: A part that holds others (multipart/*, an attached message/*). Counted in the raw mail before it is
#: parsed, which bounds how deep it nests: the parser checks each line against the boundary of every
#: enclosing part (2,000 levels took seconds), and past Python's recursion limit it fails. A line starts
#: wherever the parser's does (after CR, LF or CRLF), and the value may be folded over any number of lines.
CONTAINER = re.compile(rb"(?i)(?<![^\r\n])content-type:[ \t\r\n]*(?:multipart|message)/")
#: Containers in one mail: ten forwarded mails attached make about 31; 32 nested in 25 MB read in 1.4 s.
MAX_NESTED = 32
#: Leaf parts (texts and files) in one mail, and files taken from it.
MAX_PARTS = 100
MAX_FILES = 20
#: A sender's name is kept to this length; the From header is cut to what such a name and an address take
#: before it is parsed.
NAME_LIMIT = 50
#: HTML read for its text: the description keeps 5,000 characters, and every tag is a node in memory.
HTML_LIMIT = 1_000_000
#: Where an HTML part's text breaks into lines.
BLOCKS = ("br", "p", "div", "tr", "li")
#: Where the header block is read alone, for the mailbox's count of mails by sender.
HEADER_PEEK = 64 * 1024
#: Characters never kept: controls but newline and tab, format characters (U+202E turns text around,
#: zero-width ones hide words) and lone surrogates (bytes no charset could read).
HIDDEN = frozenset({"Cc", "Cf", "Cs"})


class MailRefused(TicketError):
    """The mail cannot be read as it is; resending the same bytes cannot help. ``cause`` names the
    parser's error when it was one (for the log: the mail's bytes are not kept)."""

    def __init__(self, error_id: str, message: str, too_big: bool = False, cause: str = "") -> None:
        super().__init__(error_id, message, 413 if too_big else 422)
        self.too_big = too_big
        self.cause = cause

    def __reduce__(self) -> tuple[type[MailRefused], tuple[str, str, bool, str]]:
        """As it is made (a mail is read in a process of its own, whose refusals cross back pickled)."""
        return (type(self), (self.error_id, self.message, self.too_big, self.cause))


#: What the parser and the decoders raise on malformed input (binascii's errors are ValueErrors): the same
#: bytes raise it again, so the mail is refused for good. Anything else is taken for our own fault.
MALFORMED: tuple[type[Exception], ...] = (
    RecursionError,
    ValueError,
    LookupError,
    email.errors.MessageError,
    lxml.etree.LxmlError,
)


@contextmanager
def _reading() -> Iterator[None]:
    """A mail the parser cannot read is refused for good, its cause named; any other failure (a fault of
    ours, memory) passes on, so the sender is asked to try again and the log keeps its traceback."""
    try:
        yield
    except TicketError:
        raise
    except MALFORMED as exc:
        raise MailRefused("mail-unreadable", "无法读取此邮件", cause=type(exc).__name__) from exc


@dataclass(frozen=True)
class MailIntake:
    """The fields ``parse_intake`` takes, and the files to store before the ticket names them."""

    intake: dict[str, Any]
    files: tuple[IntakeFile, ...]


def visible(text: str) -> str:
    """The text without the characters that hide or reorder what a reader sees; newlines and tabs stay."""
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in HIDDEN)


def _charset(label: str) -> str | None:
    """Python's codec for a label, if it is one a mail may use; None for a label no codec knows."""
    name = SUPERSETS.get(label.strip().lower(), label.strip().lower())
    try:
        codec = codecs.lookup(name).name
    except LookupError:  # nothing would decode it: read as unlabelled text
        return None
    if codec not in CHARSETS:
        shown = visible(label)[:40]
        raise MailRefused("mail-charset-refused", f"不接受字符集 {shown}；请用 UTF-8 或 GB18030 重新发送")
    return name


def decode_text(raw: bytes, label: str | None) -> str:
    """Bytes in the charset the sender named, or the first that fits; refused when the label names a
    codec that is no charset for text (``MailRefused``)."""
    named = _charset(label) if label else None
    for name in (*([named] if named else []), *FALLBACKS):
        try:
            return raw.decode(name)
        except UnicodeDecodeError:
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
    return visible("".join(parts)).strip()


def html_text(html: str) -> str:
    """The words of an HTML part, a block per line. libxml2 reads it: Python's own HTMLParser takes
    minutes over 64 KB of unclosed tags."""
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)
    try:
        root = lxml.html.document_fromstring(html[:HTML_LIMIT].encode("utf-8", "replace"), parser=parser)
    except lxml.etree.ParserError:  # nothing but markup
        return ""
    lxml.etree.strip_elements(root, "script", "style", with_tail=False)
    for block in root.iter(*BLOCKS):
        block.text = "\n" + (block.text or "")
    return str(root.text_content())


def _charset_of(part: Message) -> str | None:
    """The part's charset label, read without ``get_content_charset``, which decodes an RFC 2231 label
    with whatever codec the label itself names."""
    label = part.get_param("charset")
    if isinstance(label, tuple):  # RFC 2231: (charset, language, value)
        label = label[2]
    return label if isinstance(label, str) else None


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    return decode_text(payload, _charset_of(part)) if isinstance(payload, bytes) else ""


def _file_name(part: Message) -> str:
    raw = part.get_param("filename", header="content-disposition") or part.get_param("name")
    if raw is None:
        return ""
    if isinstance(raw, tuple):  # RFC 2231: (charset, language, value)
        charset, _, value = raw
        return visible(decode_text(value.encode("latin-1", "surrogateescape"), charset or None))
    return header_text(raw)


def _leaves(message: Message) -> list[Message]:
    """The texts and files of a mail in order, counted as they are found."""
    leaves: list[Message] = []
    waiting = [message]
    while waiting:
        part = waiting.pop()
        if part.is_multipart():
            waiting.extend(reversed(part.get_payload()))
            continue
        leaves.append(part)
        if len(leaves) > MAX_PARTS:
            raise MailRefused("mail-too-many-parts", f"邮件超过 {MAX_PARTS} 个部分", too_big=True)
    return leaves


def _sender(message: Message) -> tuple[str, str]:
    """The From header's display name and address (lower case)."""
    text = header_text(message.get("From"))
    try:
        name, address = parseaddr(text[: 4 * NAME_LIMIT + 254])
    except RecursionError:  # a name of nested comments "((((…": no name, no address
        return "", ""
    return name[:NAME_LIMIT], address.lower()


def sender_of(raw: bytes) -> str:
    """The address a mail says it is from, read from its header block alone; empty without one."""
    with _reading():
        headers = BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw[:HEADER_PEEK])
        address = _sender(headers)[1]
    return address if EMAIL.match(address) else ""


def _key(message: Message, address: str, raw: bytes) -> str:
    """The ticket's key for this mail: its sender's and its own id, so a stranger who sends the same
    Message-ID makes a ticket of their own; the content's hash when it has no id."""
    found = header_text(message.get("Message-ID")).strip("<> ")
    if not found:
        return "sha256:" + hashlib.sha256(raw).hexdigest()
    return "sha256:" + hashlib.sha256(f"{address}\n{found}".encode("utf-8", "replace")).hexdigest()


def read_mail(raw: bytes, category: str, region: str) -> MailIntake:
    """The intake of one email (type 其他, waiting for an agent to classify it) and its attached files."""
    with _reading():
        return _read(raw, category, region)


def _read(raw: bytes, category: str, region: str) -> MailIntake:
    if next(islice(CONTAINER.finditer(raw), MAX_NESTED, None), None) is not None:
        raise MailRefused("mail-too-nested", f"邮件的嵌套部分超过 {MAX_NESTED} 个", too_big=True)
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    plain: list[str] = []
    html: list[str] = []
    files: list[IntakeFile] = []
    for part in _leaves(message):
        name = _file_name(part)
        if name or part.get_content_disposition() == "attachment":
            content = part.get_payload(decode=True)
            if isinstance(content, bytes) and content:
                files.append(IntakeFile(name or "附件", content))
        elif part.get_content_type() == "text/plain":
            plain.append(_part_text(part))
        elif part.get_content_type() == "text/html":
            html.append(html_text(_part_text(part)))
    if len(files) > MAX_FILES:
        raise MailRefused("mail-too-many-files", f"一封邮件最多 {MAX_FILES} 个附件", too_big=True)
    subject = header_text(message.get("Subject"))
    body = "\n".join(plain) if plain else "\n".join(html)
    body = BLANK_LINES.sub("\n\n", body.replace("\r\n", "\n")).strip()
    description = "\n\n".join(text for text in (f"【主题】{subject}" if subject else "", body) if text)
    sender_name, sender_address = _sender(message)
    return MailIntake(
        intake={
            "type": "other",
            "channel": Channel.EMAIL.value,
            "description": visible(description[: 2 * DESCRIPTION_LIMIT])[:DESCRIPTION_LIMIT] or "（空邮件）",
            "category": category,
            "region": region,
            "caller_name": sender_name,
            "caller_email": sender_address if EMAIL.match(sender_address) else "",
            "external_id": _key(message, sender_address, raw),
        },
        files=tuple(files),
    )
