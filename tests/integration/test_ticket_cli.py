"""``hotline tickets list|show|export|kpi`` and ``hotline users add`` against a real store."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hotline.cli import main
from hotline.intake.service import IntakeDesk
from hotline.kernel.api.identity import Actor, Role
from hotline.ticketing.policy import load_policy
from hotline.ticketing.service import TicketDesk

AGENT = Actor("王芳", Role.AGENT)


@pytest.fixture
async def stored(engine, database_url, monkeypatch, tmp_path):
    monkeypatch.setenv("HOTLINE_DATABASE_URL", database_url)
    monkeypatch.setenv("HOTLINE_CONFIG_FILE", str(tmp_path / "hotline.env"))
    desk = TicketDesk(
        engine,
        load_policy("zhijiang"),
        clock=lambda: datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
    )
    await desk.start()
    numbers = []
    for description in ("路灯不亮", "噪声扰民"):
        view, _ = await desk.take_in(
            {
                "type": "投诉",
                "description": description,
                "category": "urban.roads",
                "region": "zj.dongshi",
                "caller_phone": "13700137000",
            },
            AGENT,
        )
        numbers.append(view["number"])
    await desk.act(numbers[0], "dispatch", {"unit": "zjj"}, AGENT)
    return numbers


async def run(argv, capsys):
    import asyncio

    code = await asyncio.to_thread(main, argv)
    out = capsys.readouterr()
    return code, out.out, out.err


async def test_list_show_export_and_kpi(stored, capsys) -> None:
    first, second = stored
    code, out, _ = await run(["tickets", "list"], capsys)
    assert code == 0 and out.index(second) < out.index(first) and "待签收" in out
    code, out, _ = await run(["tickets", "list", "--status", "待签收", "--json"], capsys)
    assert [row["number"] for row in json.loads(out)] == [first]
    code, out, _ = await run(["tickets", "show", first], capsys)
    shown = json.loads(out)
    assert shown["lead_unit"] == "zjj" and [e["kind"] for e in shown["events"]] == ["received", "dispatched"]
    code, out, _ = await run(["tickets", "export", "--from", "2026-11-01", "--to", "2026-11-03"], capsys)
    documents = [json.loads(line) for line in out.splitlines()]
    assert {d["id"] for d in documents} == {first, second} and documents[0]["format"] == "hotline.ticket/1"
    code, out, _ = await run(
        ["tickets", "kpi", "--group", "all", "--from", "2026-11-01", "--to", "2026-12-01"], capsys
    )
    assert out.splitlines()[1].startswith("all,2,1,0")


async def test_list_tells_each_ticket_s_channel_and_subject(stored, engine, capsys) -> None:
    """A voicemail's ticket and an email's once looked alike in `tickets list`: each line now says how the
    matter came in and what it is about (the email's subject, the start of anything else), numbers masked."""
    desk = TicketDesk(engine, load_policy("zhijiang"))
    await desk.start()
    mail = (
        "From: 李四 <lisi@example.cn>\r\nTo: 12345@hotline.local\r\nSubject: 投诉 菜市场占道经营\r\n"
        "Message-ID: <cli-list@example.cn>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "每天早上七点开始占道，电话 13911112222。\r\n"
    ).encode()
    by_mail, _ = await IntakeDesk(desk).take_in_email(mail)
    voicemail, _ = await desk.take_in(
        {
            "type": "other",
            "channel": "voicemail",
            "description": "语音留言 12 秒，来电号码 13700137000，留言时间 2026-11-02。\n转写：路灯不亮",
            "category": "urban.roads",
            "region": "zj.dongshi",
            "caller_phone": "13700137000",
        },
        AGENT,
    )
    code, out, _ = await run(["tickets", "list"], capsys)
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert code == 0
    assert "电子邮件" in lines[by_mail] and "投诉 菜市场占道经营" in lines[by_mail], lines[by_mail]
    assert "语音留言" in lines[voicemail["number"]] and "137****7000" in lines[voicemail["number"]]
    assert "电话" in lines[stored[0]] and "路灯不亮" in lines[stored[0]], lines[stored[0]]
    assert "13700137000" not in out and "13911112222" not in out


async def test_list_masks_the_phone_numbers_in_a_subject_but_not_its_dates(stored, engine, capsys) -> None:
    """Issue 28's review: `tickets list` had a phone pattern of its own, which took 20261102 for a number."""
    desk = TicketDesk(engine, load_policy("zhijiang"))
    await desk.start()
    view, _ = await desk.take_in(
        {
            "type": "投诉",
            "description": "20261102起停水，电话 139 1111 2222",
            "category": "urban.roads",
            "region": "zj.dongshi",
        },
        AGENT,
    )
    code, out, _ = await run(["tickets", "list"], capsys)
    [line] = [line for line in out.splitlines() if line.startswith(view["number"])]
    assert code == 0 and "20261102起停水，电话 139****2222" in line and "1111" not in line, line


async def test_show_gives_every_time_in_the_policys_zone(stored, capsys) -> None:
    """Issue 28's review: a ticket's events came back from the database in UTC, beside its +08:00 times."""
    code, out, _ = await run(["tickets", "show", stored[0]], capsys)
    shown = json.loads(out)
    assert code == 0 and shown["accepted_at"] == "2026-11-02T09:00:00+08:00"
    assert [event["at"] for event in shown["events"]] == ["2026-11-02T09:00:00+08:00"] * 2
    code, out, _ = await run(["tickets", "export", "--from", "2026-11-02", "--to", "2026-11-03"], capsys)
    [exported] = [document for document in map(json.loads, out.splitlines()) if document["id"] == stored[0]]
    assert [event["at"] for event in exported["events"]] == ["2026-11-02T09:00:00+08:00"] * 2


async def test_cli_errors_are_clear(stored, capsys) -> None:
    for argv, message in [
        (["tickets", "show", "nope"], "no ticket nope"),
        (["tickets", "list", "--status", "lost"], "unknown Status"),
        (["tickets", "kpi", "--from", "x", "--to", "2026-12-01"], "--from must be a date"),
        (["users", "add", "某人", "--role", "unit", "--unit", "nowhere"], "no unit nowhere"),
        (["users", "add", "某人", "--role", "mayor"], "unknown Role"),
    ]:
        code, _, err = await run(argv, capsys)
        assert code == 2 and message in err, (argv, err)


async def test_users_add_prints_the_token_alone_and_hints_on_stderr(stored, engine, capsys) -> None:
    """The README's `BOSS=$(hotline users add …)` once needed a sed that also caught the hint's line:
    standard output is the token and nothing else, so the shell's capture is the token."""
    from hotline.kernel.api.users import Users

    code, out, err = await run(["users", "add", "城管中队", "--role", "unit", "--unit", "cgj"], capsys)
    token = out.removesuffix("\n")
    assert code == 0 and out.count("\n") == 1 and " " not in token and ":" not in token, out
    assert await Users(engine).authenticate(token) == Actor("城管中队", Role.UNIT, "cgj")
    assert "Authorization: Bearer" in err and token not in err


async def test_adding_an_existing_user_again_is_refused_unless_rotating(stored, engine, capsys) -> None:
    """Running the same command twice once revoked the first token without a word."""
    from hotline.kernel.api.users import Users

    _, out, _ = await run(["users", "add", "李班长", "--role", "supervisor"], capsys)
    first = out.strip()
    code, out, err = await run(["users", "add", "李班长", "--role", "supervisor"], capsys)
    assert code == 2 and "--rotate" in err
    assert out == "", "nothing on standard output: a shell's BOSS=$(…) is empty and the exit status says why"
    assert await Users(engine).authenticate(first) is not None, "the refused repeat changed nothing"
    code, out, err = await run(["users", "add", "李班长", "--role", "supervisor", "--rotate"], capsys)
    second = out.strip()
    assert code == 0 and "old token no longer works" in err
    assert await Users(engine).authenticate(first) is None and await Users(engine).authenticate(second)


async def test_sweep_reminds_and_supervises_an_overdue_ticket_once(
    engine, database_url, monkeypatch, tmp_path, capsys
):
    monkeypatch.setenv("HOTLINE_DATABASE_URL", database_url)
    monkeypatch.setenv("HOTLINE_CONFIG_FILE", str(tmp_path / "hotline.env"))
    month_ago = datetime.now(ZoneInfo("Asia/Shanghai")) - timedelta(days=30)
    desk = TicketDesk(engine, load_policy("zhijiang"), clock=lambda: month_ago)
    await desk.start()
    view, _ = await desk.take_in(
        {"type": "求助", "description": "小区停水", "category": "urban.property", "region": "zj.dongshi"},
        AGENT,
    )
    await desk.act(view["number"], "dispatch", {"unit": "zjj"}, AGENT)
    code, out, _ = await run(["tickets", "sweep"], capsys)
    lines = out.splitlines()
    assert code == 0 and [line.split()[:2] for line in lines] == [
        [view["number"], "remind"],
        [view["number"], "supervise"],
    ]
    assert "已超期" in lines[0]
    code, out, _ = await run(["tickets", "sweep"], capsys)
    assert code == 0 and out == ""
