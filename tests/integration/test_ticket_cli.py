"""``hotline tickets list|show|export|kpi`` and ``hotline users add`` against a real store."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hotline.cli import main
from kernel.api.identity import Actor, Role
from ticketing.policy import load_policy
from ticketing.service import TicketDesk

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


async def test_users_add_prints_a_token_that_authenticates(stored, engine, capsys) -> None:
    from kernel.api.users import Users

    code, out, _ = await run(["users", "add", "城管中队", "--role", "unit", "--unit", "cgj"], capsys)
    token = out.strip().split(": ", 1)[1]
    assert code == 0 and await Users(engine).authenticate(token) == Actor("城管中队", Role.UNIT, "cgj")


async def test_adding_an_existing_user_again_is_refused_unless_rotating(stored, engine, capsys) -> None:
    """Running the same command twice once revoked the first token without a word."""
    from kernel.api.users import Users

    _, out, _ = await run(["users", "add", "李班长", "--role", "supervisor"], capsys)
    first = out.strip().split(": ", 1)[1]
    code, _, err = await run(["users", "add", "李班长", "--role", "supervisor"], capsys)
    assert code == 2 and "--rotate" in err
    assert await Users(engine).authenticate(first) is not None, "the refused repeat changed nothing"
    code, out, err = await run(["users", "add", "李班长", "--role", "supervisor", "--rotate"], capsys)
    second = out.strip().split(": ", 1)[1]
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
