"""Citizens' emails as mail clients in China send them become readable intakes."""

from __future__ import annotations

import base64
import threading
from email.header import Header
from email.message import EmailMessage

import pytest

from hotline.intake import mail_intake
from hotline.intake.mail_intake import (
    MAX_FILES,
    MAX_NESTED,
    MailIntake,
    MailRefused,
    decode_text,
    read_mail,
    sender_of,
)
from hotline.ticketing.workflow import parse_intake
from tests.unit.intake.mails import (
    BODY,
    body_in,
    forwarded,
    many_parts,
    nested,
    punycode_subject,
    raw_mail,
    subject_in,
)


@pytest.mark.parametrize(
    ("charset", "transfer"),
    [("utf-8", "base64"), ("gbk", "base64"), ("gb18030", "quoted-printable"), ("big5", "quoted-printable")],
)
def test_body_subject_and_sender_read_in_every_chinese_charset(charset: str, transfer: str) -> None:
    mail = read_mail(raw_mail(charset, transfer), "other", "city")
    assert mail.intake["description"] == f"【主题】{subject_in(charset)}\n\n{body_in(charset)}"
    assert mail.intake["caller_name"] == "张三"
    assert mail.intake["caller_email"] == "zhangsan@example.cn"
    assert parse_intake(mail.intake).channel.label == "电子邮件"


def test_gbk_text_labelled_gb2312_is_read_whole() -> None:
    """Clients still label GBK as gb2312; 镕 and 祎 lie outside GB2312 and must not become question marks."""
    body = "朱镕基路的王祎反映：" + BODY
    raw = raw_mail("gbk", "base64", label="gb2312").replace(
        base64.encodebytes(BODY.encode("gbk")), base64.encodebytes(body.encode("gbk"))
    )
    assert read_mail(raw, "other", "city").intake["description"].endswith(body)


def test_attachments_kept_with_their_chinese_names() -> None:
    message = EmailMessage()
    message["From"] = "李四 <lisi@example.cn>"
    message["Subject"] = "噪音投诉"
    message["Message-ID"] = "<with-files@example.cn>"
    message.set_content("工地夜间施工，附照片和录音。", charset="utf-8")
    message.add_attachment(b"\xff\xd8photo", maintype="image", subtype="jpeg", filename="现场照片.jpg")
    message.add_attachment(b"RIFFwav", maintype="audio", subtype="wav", filename="录音.wav")
    mail = read_mail(message.as_bytes(), "other", "city")
    files = [(f.name, f.content) for f in mail.files]
    assert files == [("现场照片.jpg", b"\xff\xd8photo"), ("录音.wav", b"RIFFwav")]
    assert mail.intake["description"] == "【主题】噪音投诉\n\n工地夜间施工，附照片和录音。"


def test_an_outlook_style_encoded_file_name_is_decoded() -> None:
    name = Header("发票.pdf", "gbk").encode()
    raw = (
        "From: a@example.cn\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhi\r\n"
        f'--b\r\nContent-Type: application/pdf; name="{name}"\r\n'
        f'Content-Disposition: attachment; filename="{name}"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b--\r\n"
    ).encode()
    assert [f.name for f in read_mail(raw, "other", "city").files] == ["发票.pdf"]


def test_html_only_mail_gives_its_text_without_tags_or_scripts() -> None:
    message = EmailMessage()
    message["From"] = "w@example.cn"
    message.set_content("<p>水管<b>爆裂</b></p><script>alert(1)</script><br>请速来", subtype="html")
    description = read_mail(message.as_bytes(), "other", "city").intake["description"]
    assert "爆裂" in description and "请速来" in description
    assert "<" not in description and "alert" not in description


def test_raw_utf8_subject_and_a_mail_without_message_id_keep_one_key_per_content() -> None:
    raw = "From: x@example.cn\r\nSubject: 井盖丢失\r\n\r\n人民路井盖丢失".encode()
    first, again = read_mail(raw, "other", "city"), read_mail(raw, "other", "city")
    assert first.intake["description"].startswith("【主题】井盖丢失")
    assert first.intake["external_id"] == again.intake["external_id"]
    assert first.intake["external_id"].startswith("sha256:")
    assert read_mail(raw + b"!", "other", "city").intake["external_id"] != first.intake["external_id"]


def test_a_bad_sender_address_is_left_out_and_an_unknown_charset_still_reads() -> None:
    raw = b"From: not an address\r\nContent-Type: text/plain; charset=x-unknown\r\n\r\n" + "路灯".encode()
    mail = read_mail(raw, "other", "city")
    assert mail.intake["caller_email"] == ""
    assert mail.intake["description"] == "路灯"
    assert decode_text(b"\xff\xfe\xfa", None)  # nothing fits: replaced, never an exception


# ---------------------------------------------------------------- what anyone on the Internet may send

#: Longer than a hang-free read of any mail here needs by far; a read that runs into it has hung.
HANG = 10.0


def read_within_bound(raw: bytes) -> MailIntake:
    """``read_mail`` in a thread the test does not wait for past ``HANG`` (a quadratic read takes minutes)."""
    outcome: list[MailIntake | BaseException] = []

    def read() -> None:
        try:
            outcome.append(read_mail(raw, "other", "city"))
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=read, daemon=True)
    worker.start()
    worker.join(HANG)
    assert outcome, f"reading the mail took more than {HANG} s"
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


def mail_with(head: str, body: bytes) -> bytes:
    return f"From: a@example.cn\r\nMessage-ID: <m@example.cn>\r\n{head}\r\n".encode() + body


@pytest.mark.parametrize(
    "raw",
    [
        mail_with("Content-Type: text/plain; charset=punycode\r\n", b"a-" + b"9" * 270_000),
        mail_with(punycode_subject(), b"text"),
        mail_with("Content-Type: text/plain; charset*=utf-8''unicode_escape\r\n", b"\\x00\\x07\\u202e"),
        mail_with("Content-Type: text/plain; charset=idna\r\n", b"xn--abc"),
    ],
    ids=["punycode body", "punycode subject", "unicode_escape named by RFC 2231", "idna"],
)
def test_a_codec_that_is_no_text_charset_is_refused_for_good_without_decoding(raw: bytes) -> None:
    """Punycode decodes in time that grows with the square of the text (270 KB: about 20 s of a core);
    unicode_escape writes NUL, BEL or U+202E into the description."""
    with pytest.raises(MailRefused) as refused:
        read_within_bound(raw)
    assert refused.value.error_id == "mail-charset-refused" and not refused.value.too_big


def test_controls_and_direction_overrides_are_dropped_from_what_agents_read() -> None:
    body = "路灯\x00坏了\x07\r\n\t‮请修理‬\u200b".encode()
    mail = read_mail(mail_with("Subject: =?utf-8?q?=E8=B7=AF=07=E7=81=AF?=\r\n", body), "other", "city")
    assert mail.intake["description"] == "【主题】路灯\n\n路灯坏了\n\t请修理"


@pytest.mark.parametrize(
    ("raw", "error_id"),
    [
        (nested(2000), "mail-too-nested"),
        (forwarded(2000), "mail-too-nested"),
        (many_parts(2000, "inline"), "mail-too-many-parts"),
        (many_parts(MAX_FILES + 1, "attachment; filename=f{n}.pdf"), "mail-too-many-files"),
    ],
    ids=["2,000 multiparts deep", "2,000 forwards deep", "2,000 parts", "one file too many"],
)
def test_a_mail_built_past_the_bounds_is_refused_as_too_big(raw: bytes, error_id: str) -> None:
    with pytest.raises(MailRefused) as refused:
        read_within_bound(raw)
    assert (refused.value.error_id, refused.value.too_big) == (error_id, True)


@pytest.mark.parametrize(
    ("end", "fold"),
    [("\r", " "), ("\n", " "), ("\r\n", "\r\n \r\n\t\r\n "), ("\r", "\r \r ")],
    ids=["CR line ends", "LF line ends", "a value folded over blank lines", "folded with CRs"],
)
def test_nesting_is_counted_whatever_ends_the_lines_and_however_the_header_is_folded(
    end: str, fold: str
) -> None:
    """Python's parser ends a line at a bare CR too, and joins any folds: 300 levels of CR-ended lines were
    counted as none (and took over a second per 100 KB, holding the one worker)."""
    raw = nested(MAX_NESTED + 18, end, fold)
    with pytest.raises(MailRefused) as refused:
        read_within_bound(raw)
    assert (refused.value.error_id, refused.value.too_big) == ("mail-too-nested", True)
    within = nested(MAX_NESTED // 2, end, fold)
    assert read_mail(within, "other", "city").intake["description"] == "水管爆裂", "the parser nests it"


def test_a_mail_within_the_bounds_keeps_every_file() -> None:
    mail = read_mail(many_parts(MAX_FILES, "attachment; filename=f{n}.pdf"), "other", "city")
    assert [file.name for file in mail.files] == [f"f{n}.pdf" for n in range(MAX_FILES)]
    assert read_mail(nested(MAX_NESTED), "other", "city").intake["description"] == "水管爆裂"


@pytest.mark.parametrize(
    "markup", ["<a\n", "<a b='", "</a"], ids=["unclosed tags", "open attributes", "ends"]
)
def test_html_of_unclosed_tags_is_read_in_bounded_time(markup: str) -> None:
    """Python's own HTMLParser takes about a minute over 64 KB of "<a\\n": a mail of them held a core."""
    html = "<p>请修理路灯</p>" + markup * 100_000
    mail = read_within_bound(mail_with("Content-Type: text/html; charset=utf-8\r\n", html.encode()))
    assert mail.intake["description"].startswith("请修理路灯")


def test_a_from_header_of_nested_comments_is_no_address_and_no_error() -> None:
    raw = ("From: " + "(" * 5000 + "a@example.cn\r\nSubject: x\r\n\r\nhi").encode()
    assert read_mail(raw, "other", "city").intake["caller_email"] == ""
    assert sender_of(raw) == ""


@pytest.mark.parametrize(
    "error",
    [RecursionError("maximum recursion depth exceeded"), UnicodeDecodeError("utf-8", b"\xff", 0, 1, "bad")],
    ids=["RecursionError", "UnicodeDecodeError"],
)
def test_a_mail_the_parser_fails_on_is_refused_for_good_naming_the_cause(
    monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    def broken(*_: object) -> None:
        raise error

    monkeypatch.setattr(mail_intake, "_leaves", broken)
    with pytest.raises(MailRefused) as refused:
        read_mail(raw_mail("utf-8", "base64"), "other", "city")
    assert (refused.value.error_id, refused.value.cause) == ("mail-unreadable", type(error).__name__)


def test_a_fault_of_ours_while_reading_is_no_refusal_of_the_mail(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug is not the sender's: the mail is put off (451 at the mailbox), its traceback kept."""

    def buggy(*_: object) -> None:
        raise AttributeError("'NoneType' object has no attribute 'get_payload'")

    monkeypatch.setattr(mail_intake, "_leaves", buggy)
    with pytest.raises(AttributeError):
        read_mail(raw_mail("utf-8", "base64"), "other", "city")


def test_the_key_is_the_senders_and_the_message_ids_so_a_stranger_cannot_take_a_citizens_id() -> None:
    def key(sender: str, message_id: str = "<same@example.cn>") -> str:
        raw = f"From: {sender}\r\nMessage-ID: {message_id}\r\n\r\nhi".encode()
        return read_mail(raw, "other", "city").intake["external_id"]

    assert key("a@example.cn") == key("A@Example.cn") == key("张三 <a@example.cn>")
    assert key("a@example.cn") != key("b@example.cn")
    assert key("a@example.cn") != key("a@example.cn", "<other@example.cn>")
    assert sender_of(b"From: =?utf-8?b?5byg5LiJ?= <A@Example.cn>\r\n\r\nhi") == "a@example.cn"
