"""Mails as citizens' clients write them (GBK, GB18030, Big5, UTF-8 with a photo) and as anyone on the
Internet may build them (nested past every bound, punycode subjects), for the intake's tests at every tier."""

from __future__ import annotations

import base64
import quopri
from email.header import Header
from email.message import EmailMessage

#: The hotline's own address, as the mailbox takes mail for it.
HOTLINE = "12345@hotline.local"
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


def gbk_mail() -> bytes:
    body = "朱镕基大道路面塌陷，车辆无法通行，请尽快处理。".encode("gbk")
    return (
        f"From: {Header('王祎', 'gbk').encode()} <wangyi@example.cn>\r\nTo: {HOTLINE}\r\n"
        f"Subject: {Header('道路塌陷', 'gbk').encode()}\r\nMessage-ID: <gbk-1@example.cn>\r\n"
        'MIME-Version: 1.0\r\nContent-Type: text/plain; charset="gb2312"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
    ).encode() + base64.encodebytes(body)


def utf8_mail_with_photo() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "李四 <lisi@example.cn>"
    message["To"] = HOTLINE
    message["Subject"] = "垃圾清运不及时"
    message["Message-ID"] = "<utf8-photo@example.cn>"
    message.set_content("小区垃圾三天没人清运，附现场照片。")
    message.add_attachment(
        b"\xff\xd8\xff\xe0JFIF-photo", maintype="image", subtype="jpeg", filename="现场.jpg"
    )
    message.add_attachment(b"MZ-program", maintype="application", subtype="octet-stream", filename="a.exe")
    return message


def punycode_subject(digits: int = 100_000) -> str:
    """A subject of punycode words folded over lines of SMTP's length, read together as one."""
    words = ["a-" + "9" * 900] + ["9" * 900] * (digits // 900)
    return "Subject: " + "\r\n ".join(f"=?punycode?Q?{word}?=" for word in words) + "\r\n"


def nested(depth: int, end: str = "\r\n", fold: str = " ") -> bytes:
    """A mail of ``depth`` multiparts each inside the last, its lines ending in ``end``, each Content-Type
    header's name and value apart by ``fold``."""
    part = f"Content-Type: text/plain{end}{end}水管爆裂{end}"
    for level in range(depth):
        part = (
            f'Content-Type:{fold}multipart/mixed; boundary="b{level}"{end}{end}'
            f"--b{level}{end}{part}--b{level}--{end}"
        )
    return (f"From: a@example.cn{end}" + part).encode()


def forwarded(depth: int) -> bytes:
    part = "Content-Type: text/plain\r\n\r\n水管爆裂\r\n"
    for _ in range(depth):
        part = f"Content-Type: message/rfc822\r\n\r\n{part}"
    return ("From: a@example.cn\r\n" + part).encode()


def many_parts(count: int, disposition: str) -> bytes:
    part = f"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: {disposition}\r\n\r\nJVBERi0=\r\n"
    parts = "".join(part.replace("{n}", str(n)) for n in range(count))
    return (
        f'From: a@example.cn\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n{parts}--b--\r\n'.encode()
    )
