"""Citizens' emails as mail clients in China send them become readable intakes."""

from __future__ import annotations

import base64
import quopri
from email.header import Header
from email.message import EmailMessage

import pytest

from ticketing.mail_intake import decode_text, read_mail
from ticketing.workflow import parse_intake

SUBJECT = "小区路灯不亮"
BODY = "幸福路12号门口的路灯已经坏了一周，晚上很黑，请尽快修理。"
#: What a Big5 (traditional script) client writes.
BODY_BIG5 = "幸福路12號門口的路燈已經壞了一週，晚上很黑，請盡快修理。"


SUBJECT_BIG5 = "小區路燈不亮"


def body_in(charset: str) -> str:
    return BODY_BIG5 if charset == "big5" else BODY


def subject_in(charset: str) -> str:
    return SUBJECT_BIG5 if charset == "big5" else SUBJECT


def raw_mail(charset: str, transfer: str, *, label: str = "") -> bytes:
    """A single-part mail with its body in ``charset``, as a client in that locale writes it."""
    encoded = body_in(charset).encode(charset)
    payload = base64.encodebytes(encoded) if transfer == "base64" else quopri.encodestring(encoded)
    subject = Header(subject_in(charset), charset).encode()
    return (
        f"From: =?utf-8?b?{base64.b64encode('张三'.encode()).decode()}?= <zhangsan@example.cn>\r\n"
        f"To: 12345@hotline.local\r\n"
        f"Subject: {subject}\r\n"
        f"Message-ID: <{charset}-{transfer}@example.cn>\r\n"
        f"MIME-Version: 1.0\r\n"
        f'Content-Type: text/plain; charset="{label or charset}"\r\n'
        f"Content-Transfer-Encoding: {transfer}\r\n\r\n"
    ).encode("ascii") + payload


@pytest.mark.parametrize(
    ("charset", "transfer"),
    [("utf-8", "base64"), ("gbk", "base64"), ("gb18030", "quoted-printable"), ("big5", "quoted-printable")],
)
def test_body_subject_and_sender_read_in_every_chinese_charset(charset: str, transfer: str) -> None:
    mail = read_mail(raw_mail(charset, transfer), "other", "city")
    assert mail.intake["description"] == f"【主题】{subject_in(charset)}\n\n{body_in(charset)}"
    assert mail.intake["caller_name"] == "张三"
    assert mail.intake["caller_email"] == "zhangsan@example.cn"
    assert mail.intake["external_id"] == f"{charset}-{transfer}@example.cn"
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
