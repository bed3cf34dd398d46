"""The ticket REST API: roles on every route, stable error ids, never a 500, OpenAPI served."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from aiohttp import FormData, web
from aiohttp.test_utils import TestClient, TestServer

from hotline.intake.http import INTAKE_ROUTES, add_intake
from hotline.intake.service import IntakeDesk
from hotline.intake.webhooks import sign
from hotline.kernel.api.routes import PATH_PARAMETER
from hotline.kernel.api.users import Users
from hotline.ticketing.attachments import AttachmentStore
from hotline.ticketing.http import TICKET_ROUTES
from hotline.ticketing.policy import load_policy
from hotline.ticketing.service import TicketDesk
from hotline.ticketing.vocabulary import Satisfaction
from hotline.workspace.screen_pop import ticket_draft
from tests.integration.api_routes import add_api
from tests.integration.helpers import COMPLAINT, GATEWAY_SECRET, auth

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=TZ)


@pytest.fixture
async def api(engine, tmp_path):
    desk = TicketDesk(
        engine,
        load_policy("zhijiang"),
        clock=lambda: NOW,
        attachments=AttachmentStore(tmp_path / "attachments", max_bytes=64 * 1024),
    )
    await desk.start()
    users = Users(engine)
    app = web.Application()
    add_intake(app, IntakeDesk(desk), GATEWAY_SECRET)
    add_api(app, desk, users, extra_routes=INTAKE_ROUTES)
    tokens = {
        "agent": await users.add("王芳", "agent"),
        "supervisor": await users.add("李班长", "supervisor"),
        "admin": await users.add("管理员", "admin"),
        "unit": await users.add("城管中队", "unit", "cgj.majiadian"),
        "other_unit": await users.add("水务", "unit", "water"),
    }
    client = TestClient(TestServer(app))
    await client.start_server()
    yield client, tokens
    await client.close()


async def call(client: TestClient, tokens, who: str, method: str, path: str, **kwargs):
    response = await client.request(method, path, headers=auth(tokens, who), **kwargs)
    return response.status, await response.json()


async def test_no_token_or_a_bad_one_is_401(api) -> None:
    client, _ = api
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        response = await client.get("/api/tickets", headers=headers)
        assert response.status == 401 and (await response.json())["error_id"] == "unauthenticated"


async def test_a_ticket_over_http_from_intake_to_archive(api) -> None:
    client, tokens = api
    status, ticket = await call(client, tokens, "agent", "POST", "/api/tickets", json=COMPLAINT)
    assert status == 201 and ticket["status_label"] == "待分办"
    number = ticket["number"]
    status, shown = await call(client, tokens, "agent", "GET", f"/api/tickets/{number}")
    assert shown["suggested_unit"] == "cgj.majiadian" and shown["events"][0]["kind"] == "received"
    status, _ = await call(
        client, tokens, "agent", "POST", f"/api/tickets/{number}/dispatch", json={"unit": "cgj.majiadian"}
    )
    assert status == 200
    status, rows = await call(client, tokens, "unit", "GET", "/api/tickets")
    assert [r["number"] for r in rows] == [number]
    status, seen = await call(client, tokens, "unit", "GET", f"/api/tickets/{number}")
    assert seen["intake"]["caller_phone"] == "139****9000"
    for command, body, who in [
        ("sign", {}, "unit"),
        ("reply", {"text": "已劝离占道摊贩"}, "unit"),
        ("approve_reply", {}, "supervisor"),
        ("record_callback", {"result": "satisfied"}, "agent"),
    ]:
        status, ticket = await call(
            client, tokens, who, "POST", f"/api/tickets/{number}/{command}", json=body
        )
        assert status == 200, ticket
    assert ticket["status"] == "archived"
    status, trail = await call(client, tokens, "supervisor", "GET", f"/api/tickets/{number}/audit")
    assert trail and trail[0]["user"] == "城管中队"


async def test_refusals_carry_stable_error_ids(api) -> None:
    client, tokens = api
    _, ticket = await call(client, tokens, "agent", "POST", "/api/tickets", json=COMPLAINT)
    number = ticket["number"]
    cases = [
        ("unit", "POST", "/api/tickets", {"json": COMPLAINT}, 403, "forbidden"),
        (
            "agent",
            "POST",
            "/api/tickets",
            {"json": {**COMPLAINT, "caller_phone": "abc"}},
            422,
            "invalid-field",
        ),
        ("agent", "POST", "/api/tickets", {"data": "{not json", "headers": {}}, 400, "bad-json"),
        ("agent", "GET", "/api/tickets/20000101000001", {}, 404, "not-found"),
        ("agent", "POST", f"/api/tickets/{number}/sign", {"json": {}}, 403, "forbidden"),
        ("agent", "POST", f"/api/tickets/{number}/reply", {"json": {}}, 403, "forbidden"),
        (
            "supervisor",
            "POST",
            f"/api/tickets/{number}/approve_reply",
            {"json": {}},
            409,
            "illegal-transition",
        ),
        ("agent", "POST", f"/api/tickets/{number}/explode", {"json": {}}, 404, "unknown-command"),
        (
            "agent",
            "POST",
            f"/api/tickets/{number}/dispatch",
            {"json": {"unit": "nowhere"}},
            422,
            "unknown-unit",
        ),
        ("other_unit", "GET", f"/api/tickets/{number}", {}, 403, "not-your-ticket"),
        ("agent", "GET", "/api/tickets?status=lost", {}, 422, "invalid-field"),
        ("agent", "GET", f"/api/tickets/{number}/audit", {}, 403, "forbidden"),
        ("agent", "POST", "/api/units", {"json": {"code": "x", "name": "y"}}, 403, "forbidden"),
    ]
    for who, method, path, kwargs, expected, error_id in cases:
        headers = {**auth(tokens, who), **kwargs.pop("headers", {})}
        response = await client.request(method, path, headers=headers, **kwargs)
        body = await response.json()
        assert (response.status, body["error_id"]) == (expected, error_id), (path, body)
    _, again = await call(client, tokens, "agent", "GET", f"/api/tickets/{number}")
    assert again["version"] == 1  # none of that changed the ticket


@pytest.mark.parametrize(
    "body",
    [
        [],
        "text",
        None,
        7,
        {"unit": 5},
        {"assist_units": "cgj"},
        {"unit": ["a"]},
        {"complex": "yes"},
        {"reason": {"a": 1}},
        {"result": None},
    ],
)
async def test_odd_bodies_never_give_a_500(api, body) -> None:
    client, tokens = api
    _, ticket = await call(client, tokens, "agent", "POST", "/api/tickets", json=COMPLAINT)
    for command in ("dispatch", "reject", "answer", "merge", "mark_hot", "note"):
        response = await client.post(
            f"/api/tickets/{ticket['number']}/{command}", json=body, headers=auth(tokens, "agent")
        )
        assert 200 <= response.status < 500, (command, body, await response.text())
    response = await client.post("/api/tickets", json=body, headers=auth(tokens, "agent"))
    assert response.status in (400, 422)


async def test_forwarded_tickets_are_idempotent_over_http(api) -> None:
    client, tokens = api
    forwarded = {**COMPLAINT, "channel": "forward", "source": "yichang", "external_id": "YC-1"}
    first_status, first = await call(client, tokens, "agent", "POST", "/api/tickets", json=forwarded)
    again_status, again = await call(client, tokens, "agent", "POST", "/api/tickets", json=forwarded)
    assert (first_status, again_status) == (201, 200) and first["number"] == again["number"]


async def test_units_are_managed_by_admins_and_retired_not_deleted(api) -> None:
    client, tokens = api
    status, unit = await call(
        client,
        tokens,
        "admin",
        "POST",
        "/api/units",
        json={"code": "cgj.dongshi", "name": "董市城管中队", "parent_code": "cgj"},
    )
    assert status == 201 and unit["level"] == 2
    status, body = await call(
        client, tokens, "admin", "POST", "/api/units", json={"code": "cgj.dongshi", "name": "重复"}
    )
    assert (status, body["error_id"]) == (409, "unit-exists")
    status, body = await call(client, tokens, "admin", "POST", "/api/units", json={"code": "x"})
    assert (status, body["field"]) == (422, "name")
    status, body = await call(
        client, tokens, "admin", "PATCH", "/api/units/cgj.dongshi", json={"active": False}
    )
    assert status == 200 and body["active"] is False
    _, ticket = await call(client, tokens, "agent", "POST", "/api/tickets", json=COMPLAINT)
    status, body = await call(
        client,
        tokens,
        "agent",
        "POST",
        f"/api/tickets/{ticket['number']}/dispatch",
        json={"unit": "cgj.dongshi"},
    )
    assert (status, body["error_id"]) == (422, "unknown-unit")
    status, units = await call(client, tokens, "unit", "GET", "/api/units")
    assert "cgj.dongshi" in {u["code"] for u in units}


async def test_calendar_and_policy_endpoints(api) -> None:
    client, tokens = api
    status, body = await call(
        client,
        tokens,
        "admin",
        "PUT",
        "/api/calendar/days/2027-01-01",
        json={"is_workday": False, "note": "元旦"},
    )
    assert status == 200 and body["note"] == "元旦"
    status, body = await call(
        client, tokens, "admin", "PUT", "/api/calendar/days/2027-13-01", json={"is_workday": False}
    )
    assert (status, body["field"]) == (422, "day")
    status, body = await call(client, tokens, "admin", "PUT", "/api/calendar/years/2027")
    assert status == 200 and body["known"]
    status, policy = await call(client, tokens, "unit", "GET", "/api/policy")
    assert policy["name"] == "zhijiang"


async def test_openapi_describes_every_route_with_its_roles(api) -> None:
    client, _ = api
    response = await client.get("/api/openapi.json")
    document = await response.json()
    assert document["openapi"].startswith("3.")
    for route in [*TICKET_ROUTES, *INTAKE_ROUTES]:
        operation = document["paths"][PATH_PARAMETER.sub(r"{\1}", route.path)][route.method.lower()]
        assert operation["x-roles"] and operation["summary"]
        assert "error_id" in document["components"]["schemas"]["Error"]["required"]
    created = document["paths"]["/api/tickets"]["post"]["responses"]["201"]["links"]
    assert created["get_show_ticket"] == {
        "operationId": "get_show_ticket",
        "parameters": {"number": "$response.body#/number"},
    }, "a client follows the new ticket's number to the operations on it"
    assert {"post_act_on_ticket", "get_ticket_duplicates", "post_upload_attachment"} <= set(created)


async def test_kpi_report_as_json_and_csv_for_supervisors_only(api) -> None:
    client, tokens = api
    await call(client, tokens, "agent", "POST", "/api/tickets", json=COMPLAINT)
    status, rows = await call(
        client, tokens, "supervisor", "GET", "/api/reports/kpi?group=month&from=2026-11-01&to=2026-12-01"
    )
    assert status == 200 and rows == [{**rows[0], "group": "2026-11", "accepted": 1}]
    response = await client.get(
        "/api/reports/kpi?group=unit&from=2026-11-01&to=2026-12-01&format=csv",
        headers=auth(tokens, "supervisor"),
    )
    text = await response.text()
    assert response.content_type == "text/csv" and text.startswith("承办单位,受理量")
    status, body = await call(
        client, tokens, "agent", "GET", "/api/reports/kpi?from=2026-11-01&to=2026-12-01"
    )
    assert (status, body["error_id"]) == (403, "forbidden")
    status, body = await call(client, tokens, "supervisor", "GET", "/api/reports/kpi?from=yesterday&to=today")
    assert (status, body["error_id"]) == (422, "invalid-field")


async def test_forward_to_another_platform_and_take_its_result_once(api, engine) -> None:
    client, tokens = api
    status, _ = await call(
        client,
        tokens,
        "admin",
        "POST",
        "/api/units",
        json={"code": "platform.yichang", "name": "宜昌市12345平台"},
    )
    assert status == 201
    tokens["yichang"] = await Users(engine).add("宜昌平台接口", "unit", "platform.yichang")
    _, ticket = await call(client, tokens, "agent", "POST", "/api/tickets", json=COMPLAINT)
    number = ticket["number"]
    await call(
        client,
        tokens,
        "agent",
        "POST",
        f"/api/tickets/{number}/dispatch",
        json={"unit": "platform.yichang", "reason": "属宜昌市级事项"},
    )

    status, document = await call(client, tokens, "yichang", "GET", f"/api/exchange/tickets/{number}")
    assert status == 200 and document["format"] == "hotline.ticket/1" and document["id"] == number
    assert document["caller"]["phone"] == "139****9000"  # the caller did not agree to share it

    # The other platform takes it in (here: the same API, as it would be there), once.
    first_status, first = await call(client, tokens, "agent", "POST", "/api/exchange/tickets", json=document)
    again_status, again = await call(client, tokens, "agent", "POST", "/api/exchange/tickets", json=document)
    assert (first_status, again_status) == (201, 200) and first["number"] == again["number"] != number
    assert first["intake"]["channel"] == "forward" and first["intake"]["source"] == "hotline"
    status, body = await call(client, tokens, "agent", "POST", "/api/exchange/tickets", json={"id": "x"})
    assert (status, body["field"]) == (422, "format")

    result = {"format": "hotline.result/1", "result_id": "YC-R-9", "text": "已由宜昌市城管局处理"}
    for _ in range(2):
        status, replied = await call(
            client, tokens, "yichang", "POST", f"/api/exchange/tickets/{number}/result", json=result
        )
        assert status == 200 and replied["status"] == "replied"
    kinds = [e["kind"] for e in replied["events"]]
    assert kinds.count("replied") == 1 and kinds.count("signed") == 1
    status, body = await call(
        client,
        tokens,
        "unit",
        "POST",
        f"/api/exchange/tickets/{number}/result",
        json={**result, "result_id": "other"},
    )
    assert (status, body["error_id"]) == (403, "not-your-ticket")


async def test_knowledge_base_over_http(api) -> None:
    client, tokens = api
    article = {
        "question": "占道经营怎么投诉？",
        "answer": "拨打12345，城管部门将在5个工作日内处理。",
        "category": "urban.management",
        "effective_from": "2026-01-01",
    }
    status, created = await call(client, tokens, "unit", "POST", "/api/kb", json=article)
    assert status == 201 and created["unit"] == "cgj.majiadian" and created["version"] == 1
    status, found = await call(client, tokens, "agent", "GET", "/api/kb?q=占道")
    assert status == 200 and [a["id"] for a in found] == [created["id"]]
    status, body = await call(client, tokens, "agent", "POST", "/api/kb", json=article)
    assert (status, body["error_id"]) == (403, "forbidden")
    status, body = await call(client, tokens, "agent", "GET", "/api/kb/999")
    assert (status, body["error_id"]) == (404, "not-found")
    status, change = await call(
        client,
        tokens,
        "supervisor",
        "POST",
        "/api/kb/policy-changes",
        json={"title": "市容管理条例修订", "categories": ["urban.management"]},
    )
    assert status == 200 and change["articles"] == [created["id"]]
    status, reminders = await call(client, tokens, "unit", "GET", "/api/kb/reminders")
    assert [r["id"] for r in reminders] == [created["id"]]
    status, body = await call(client, tokens, "agent", "GET", "/api/kb?q=")
    assert (status, body["field"]) == (422, "q")


def upload(data: bytes, name: str, reason: str = "") -> FormData:
    form = FormData()
    form.add_field("reason", reason)
    form.add_field("file", data, filename=name, content_type="application/octet-stream")
    return form


async def test_a_photo_attached_by_the_agent_reaches_the_unit_intact_and_the_download_is_audited(
    api, tmp_path
) -> None:
    client, tokens = api
    _, ticket = await call(client, tokens, "agent", "POST", "/api/tickets", json=COMPLAINT)
    number = ticket["number"]
    await call(
        client, tokens, "agent", "POST", f"/api/tickets/{number}/dispatch", json={"unit": "cgj.majiadian"}
    )
    photo = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
    status, shown = await call(
        client,
        tokens,
        "agent",
        "POST",
        f"/api/tickets/{number}/attachments",
        data=upload(photo, "现场照片.png", "市民微信发来"),
    )
    assert status == 201, shown
    [file] = shown["attachments"]
    assert (file["name"], file["size"], file["content_type"]) == ("现场照片.png", len(photo), "image/png")
    response = await client.get(
        f"/api/tickets/{number}/attachments/{file['sha256']}", headers=auth(tokens, "unit")
    )
    assert response.status == 200 and await response.read() == photo
    assert response.headers["Content-Type"] == "image/png"
    assert "%E7%8E%B0%E5%9C%BA" in response.headers["Content-Disposition"]
    _, trail = await call(client, tokens, "supervisor", "GET", f"/api/tickets/{number}/audit")
    assert any("attachment:现场照片.png" in row["fields"] for row in trail)
    status, body = await call(
        client, tokens, "other_unit", "GET", f"/api/tickets/{number}/attachments/{file['sha256']}"
    )
    assert (status, body["error_id"]) == (403, "not-your-ticket")
    status, body = await call(client, tokens, "unit", "GET", f"/api/tickets/{number}/attachments/{'0' * 64}")
    assert (status, body["error_id"]) == (404, "not-found")
    status, shown = await call(
        client, tokens, "unit", "POST", f"/api/tickets/{number}/attachments", data=upload(photo, "同一张.png")
    )
    assert status == 201 and len(shown["attachments"]) == 2
    stored = [p for p in (tmp_path / "attachments").rglob("*") if p.is_file()]
    assert [p.name for p in stored] == [file["sha256"]], "the same content is kept once, no upload left over"
    _, full = await call(client, tokens, "supervisor", "GET", f"/api/tickets/{number}")
    attached = [e for e in full["events"] if e["kind"] == "attached"]
    assert [e["actor"] for e in attached] == ["王芳", "城管中队"] and attached[0]["reason"] == "市民微信发来"


async def test_bad_uploads_are_refused_and_leave_nothing_behind(api, tmp_path) -> None:
    client, tokens = api
    _, ticket = await call(client, tokens, "agent", "POST", "/api/tickets", json=COMPLAINT)
    path = f"/api/tickets/{ticket['number']}/attachments"
    for body, status, error_id in [
        (upload(b"MZ...", "invoice.exe"), 415, "attachment-type-refused"),
        (upload(b"x" * (64 * 1024 + 1), "big.pdf"), 413, "attachment-too-large"),
        (upload(b"", "empty.pdf"), 422, "invalid-field"),
        ({"note": "no file"}, 415, "multipart-required"),
    ]:
        kwargs = {"json": body} if isinstance(body, dict) else {"data": body}
        got, answer = await call(client, tokens, "agent", "POST", path, **kwargs)
        assert (got, answer["error_id"]) == (status, error_id), answer
    form = FormData()
    form.add_field("reason", "只有说明")
    form.add_field("other", b"x", filename="a.txt")
    got, answer = await call(client, tokens, "agent", "POST", path, data=form)
    assert (got, answer["error_id"]) == (422, "invalid-field")
    got, answer = await call(
        client, tokens, "agent", "POST", f"/api/tickets/{ticket['number']}/attach", json={"sha256": "0" * 64}
    )
    assert (got, answer["error_id"]) == (422, "upload-required")
    got, answer = await call(client, tokens, "other_unit", "POST", path, data=upload(b"%PDF", "a.pdf"))
    assert (got, answer["error_id"]) == (403, "not-your-ticket")
    _, shown = await call(client, tokens, "agent", "GET", f"/api/tickets/{ticket['number']}")
    assert shown["attachments"] == [] and shown["version"] == 1
    leftovers = [p for p in (tmp_path / "attachments").rglob("*") if p.is_file()]
    assert leftovers == []


async def post_message(
    client: TestClient,
    channel: str,
    message: object,
    *,
    age: float = 0,
    secret: str = GATEWAY_SECRET,
    signed_for: str = "",
):
    """A gateway's request, signed as the gateway signs it (for ``signed_for``'s path, if a replay)."""
    body = json.dumps(message, ensure_ascii=False).encode()
    timestamp = str(int(NOW.timestamp() - age))
    path = f"/api/intake/{channel}"
    signature = sign(secret, timestamp, body, signed_for or path)
    headers = {"X-Hotline-Timestamp": timestamp, "X-Hotline-Signature": signature}
    response = await client.post(path, data=body, headers=headers)
    return response.status, await response.json()


async def test_a_signed_sms_becomes_a_ticket_once_however_often_the_gateway_resends(api) -> None:
    client, tokens = api
    sms = {"message_id": "sms-778", "phone": "13612345678", "text": "东市街道幸福路路灯坏了一个月"}
    status, receipt = await post_message(client, "sms", sms)
    assert status == 201 and receipt["status"] == "received" and receipt["created"]
    status, again = await post_message(client, "短信", sms)
    assert status == 200 and again["number"] == receipt["number"] and not again["created"]
    _, ticket = await call(client, tokens, "agent", "GET", f"/api/tickets/{receipt['number']}")
    intake = ticket["intake"]
    assert (intake["channel"], intake["category"], intake["region"]) == ("sms", "urban.roads", "zj")
    assert intake["guessed"] == ["category"], "路灯, guessed; 东市 is no place of the city's"
    assert intake["caller_phone"] == "13612345678" and intake["description"] == sms["text"]
    assert ticket["events"][0]["actor"] == "sms-gateway"
    wechat = {
        "message_id": "wx-1",
        "text": "小区门口占道经营",
        "category": "urban.management",
        "region": "zj.majiadian.c02",
    }
    status, receipt = await post_message(client, "wechat", wechat)
    _, ticket = await call(client, tokens, "agent", "GET", f"/api/tickets/{receipt['number']}")
    assert status == 201 and ticket["suggested_unit"] == "cgj.majiadian"


async def test_a_signed_sms_replayed_to_another_channel_is_refused(api) -> None:
    """The signature once covered the body only: replayed to /api/intake/wechat within the five minutes,
    a signed SMS made a second ticket."""
    client, tokens = api
    sms = {"message_id": "sms-880", "phone": "13612345678", "text": "幸福路路灯坏了"}
    status, receipt = await post_message(client, "sms", sms)
    assert status == 201
    status, refused = await post_message(client, "wechat", sms, signed_for="/api/intake/sms")
    assert (status, refused["error_id"]) == (401, "bad-signature")
    _, rows = await call(client, tokens, "supervisor", "GET", "/api/tickets")
    assert [r["number"] for r in rows] == [receipt["number"]]


async def test_a_message_is_classified_from_its_words_where_the_gateway_said_nothing(api) -> None:
    client, tokens = api
    sms = {
        "message_id": "sms-31",
        "phone": "13612345678",
        "text": "投诉仙女镇幸福路的路灯坏了一个月，我另一个电话0717-1234567，昨天又去问过",
    }
    status, receipt = await post_message(client, "sms", sms)
    _, ticket = await call(client, tokens, "agent", "GET", f"/api/tickets/{receipt['number']}")
    intake = ticket["intake"]
    assert status == 201 and (ticket["type_label"], intake["category"], intake["region"]) == (
        "投诉",
        "urban.roads",
        "zj.xiannv",
    )
    assert intake["caller_phone"] == "13612345678", "the sender's number is the gateway's to say"
    assert (intake["phones_mentioned"], intake["dates_mentioned"]) == (["07171234567"], ["昨天"])
    assert intake["guessed"] == [
        "ticket_type",
        "category",
        "region",
        "places_mentioned",
        "phones_mentioned",
        "dates_mentioned",
    ]
    path = f"/api/tickets/{receipt['number']}"
    await call(client, tokens, "agent", "POST", f"{path}/dispatch", json={"unit": "cgj.majiadian"})
    _, seen = await call(client, tokens, "unit", "GET", path)
    assert (seen["intake"]["caller_phone"], seen["intake"]["phones_mentioned"]) == (
        "136****5678",
        ["071****4567"],
    ), "a unit sees the numbers the words mention masked, like the caller's"
    # What the gateway says wins; the rest is still guessed, the caller's number and an emergency too.
    wechat = {
        "message_id": "wx-31",
        "text": "董市镇化工厂着火了，冒烟很大，快联系13912345678",
        "type": "咨询",
        "region": "zj.majiadian",
    }
    status, receipt = await post_message(client, "wechat", wechat)
    _, ticket = await call(client, tokens, "agent", "GET", f"/api/tickets/{receipt['number']}")
    intake = ticket["intake"]
    assert status == 201 and (ticket["type_label"], intake["category"], intake["region"]) == (
        "咨询",
        "other",
        "zj.majiadian",
    )
    assert (intake["caller_phone"], intake["places_mentioned"]) == ("13912345678", ["董市镇"])
    assert intake["emergency"] == {"number": "119", "words": ["着火", "冒烟"]}
    assert intake["phones_mentioned"] == [], "the caller's own number, taken from the words, is no mention"
    assert intake["guessed"] == ["caller_phone", "callback_phone", "places_mentioned", "emergency"]


async def test_unsigned_forged_stale_or_malformed_messages_are_refused(api) -> None:
    client, tokens = api
    sms = {"message_id": "sms-1", "text": "噪声扰民"}
    for kwargs, status, error_id in [
        ({"secret": "guess"}, 401, "bad-signature"),
        ({"age": 301}, 401, "stale-request"),
        ({"age": -301}, 401, "stale-request"),
    ]:
        got, body = await post_message(client, "sms", sms, **kwargs)
        assert (got, body["error_id"]) == (status, error_id)
    response = await client.post("/api/intake/sms", json=sms, headers=auth(tokens, "admin"))
    assert response.status == 401, "a bearer token is no gateway signature"
    for channel, message, status, error_id in [
        ("fax", sms, 404, "not-found"),
        ("sms", {"text": "无编号"}, 422, "invalid-field"),
        ("sms", {"message_id": "m2"}, 422, "invalid-field"),
        ("sms", {"message_id": "m3", "text": "x", "phone": "not a phone"}, 422, "invalid-field"),
        ("sms", ["a", "list"], 422, "invalid-field"),
    ]:
        got, body = await post_message(client, channel, message)
        assert (got, body["error_id"]) == (status, error_id), (channel, message, body)
    _, rows = await call(client, tokens, "supervisor", "GET", "/api/tickets")
    assert rows == [], "nothing refused was taken in"


async def test_the_screen_pop_draft_posts_as_a_ticket_as_it_is(api) -> None:
    """The agent adds what the caller said; nothing in the draft itself needs changing."""
    client, tokens = api
    draft = ticket_draft("1700000000.42", "13800138000", "张三", "12345")
    said = {k: COMPLAINT[k] for k in ("type", "description", "category", "region")}
    status, ticket = await call(client, tokens, "agent", "POST", "/api/tickets", json={**draft, **said})
    assert status == 201, ticket
    assert ticket["intake"]["call_id"] == "1700000000.42" and ticket["intake"]["channel"] == "phone"
    assert ticket["intake"]["caller_phone"] == "13800138000" and ticket["intake"]["handed_over_by"] == ""
    handed = ticket_draft("1700000000.43", "13800138000", "", "12345", handed_over_by="110")
    status, ticket = await call(client, tokens, "agent", "POST", "/api/tickets", json={**handed, **said})
    assert status == 201 and ticket["intake"]["handed_over_by"] == "110", ticket  # 110 handed it over


#: Only 110, 119, 120 and 122 hand callers over, named as text.
NOT_HANDED_OVER = [{**COMPLAINT, "handed_over_by": by} for by in ("911", 110)]
MALFORMED_PART = (
    b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.jpg\r\n'
    b"Content-Type\r\n\r\nxx\r\n--b--\r\n"
)


@pytest.mark.parametrize(
    ("who", "method", "path", "kwargs", "status", "error_id"),
    [
        ("agent", "POST", "/api/tickets", {"data": b"[" * 5000 + b"]" * 5000}, 400, "bad-json"),
        ("agent", "POST", "/api/tickets", {"json": NOT_HANDED_OVER[0]}, 422, "invalid-field"),
        ("agent", "POST", "/api/tickets", {"json": NOT_HANDED_OVER[1]}, 422, "invalid-field"),
        ("agent", "GET", "/api/tickets?offset=99999999999999999999999", {}, 422, "invalid-field"),
        ("agent", "GET", "/api/tickets?limit=-99999999999999999999999", {}, 422, "invalid-field"),
        ("agent", "GET", "/api/kb/999999999999999999999999", {}, 404, "not-found"),
        ("supervisor", "GET", "/api/reports/kpi?from=0001-01-01&to=9999-12-31", {}, 422, "invalid-field"),
        ("admin", "PUT", "/api/calendar/years/-5", {}, 422, "invalid-field"),
        ("admin", "PUT", "/api/calendar/years/99999999", {}, 422, "invalid-field"),
        (
            "admin",
            "PUT",
            "/api/calendar/days/0001-01-01",
            {"json": {"is_workday": True}},
            422,
            "invalid-field",
        ),
        ("admin", "POST", "/api/units", {"json": {"code": "../x", "name": "x"}}, 422, "invalid-field"),
        ("admin", "POST", "/api/units", {"json": {"code": "a" * 41, "name": "x"}}, 422, "invalid-field"),
        (
            "admin",
            "POST",
            "/api/units",
            {"json": {"code": "ab", "name": "x", "phone": "1" * 41}},
            422,
            "invalid-field",
        ),
        (
            "agent",
            "POST",
            "/api/tickets",
            {"json": {**COMPLAINT, "description": "a\u0000b"}},
            422,
            "invalid-field",
        ),
        ("agent", "GET", "/api/tickets/X%00Y", {}, 400, "bad-request"),
        ("agent", "GET", "/api/tickets?category=a%00b", {}, 400, "bad-request"),
    ],
)
async def test_bad_input_gets_a_4xx_with_an_error_id_never_a_500(
    api, who, method, path, kwargs, status, error_id
) -> None:
    client, tokens = api
    response = await client.request(method, path, headers=auth(tokens, who), **kwargs)
    body = await response.json()
    assert (response.status, body["error_id"]) == (status, error_id), body


async def test_a_malformed_multipart_part_is_a_400(api) -> None:
    client, tokens = api
    _, ticket = await call(client, tokens, "agent", "POST", "/api/tickets", json=COMPLAINT)
    response = await client.post(
        f"/api/tickets/{ticket['number']}/attachments",
        data=MALFORMED_PART,
        headers={**auth(tokens, "agent"), "Content-Type": "multipart/form-data; boundary=b"},
    )
    assert response.status == 400 and (await response.json())["error_id"] == "bad-multipart"


async def test_a_webhook_timestamp_of_nan_is_refused(api) -> None:
    """float('nan') is never more than 5 minutes off: such a request would never expire."""
    client, _ = api
    body = b'{"message_id": "m-nan", "text": "x"}'
    response = await client.post(
        "/api/intake/sms",
        data=body,
        headers={
            "X-Hotline-Timestamp": "nan",
            "X-Hotline-Signature": sign(GATEWAY_SECRET, "nan", body, "/api/intake/sms"),
        },
    )
    assert response.status == 401 and (await response.json())["error_id"] == "bad-signature"


async def test_an_idempotency_key_belongs_to_whoever_made_the_ticket(api) -> None:
    """A replay by another user once returned a confidential 举报 whole, reporter included."""
    client, tokens = api
    report = {
        **COMPLAINT,
        "type": "举报",
        "confidential": True,
        "caller_name": "举报人王五",
        "source": "portal",
        "external_id": "P-1",
    }
    status, first = await call(client, tokens, "agent", "POST", "/api/tickets", json=report)
    assert status == 201
    status, again = await call(client, tokens, "agent", "POST", "/api/tickets", json=report)
    assert (status, again["number"]) == (200, first["number"]), "the maker's own repeat is idempotent"
    status, body = await call(client, tokens, "supervisor", "POST", "/api/tickets", json=report)
    assert (status, body["error_id"]) == (409, "external-id-taken")
    assert "王五" not in json.dumps(body, ensure_ascii=False) and first["number"] not in json.dumps(body)


async def test_nobody_can_claim_a_gateways_message_id_before_the_gateway(api) -> None:
    """Pre-claiming sms-779 once made the citizen's real message vanish as a 'repeat'."""
    client, tokens = api
    squatted = {**COMPLAINT, "source": "sms-gateway", "external_id": "sms-779"}
    status, body = await call(client, tokens, "agent", "POST", "/api/tickets", json=squatted)
    assert (status, body["error_id"]) == (403, "forbidden")
    sms = {"message_id": "sms-779", "phone": "13612345678", "text": "幸福路路灯坏了"}
    status, receipt = await post_message(client, "sms", sms)
    assert status == 201 and receipt["created"]


async def test_likely_duplicates_leave_out_confidential_tickets_the_caller_cannot_open(api) -> None:
    client, tokens = api
    status, secret = await call(
        client,
        tokens,
        "supervisor",
        "POST",
        "/api/tickets",
        json={**COMPLAINT, "type": "举报", "confidential": True},
    )
    assert status == 201
    _, plain = await call(client, tokens, "agent", "POST", "/api/tickets", json=COMPLAINT)
    status, rows = await call(client, tokens, "agent", "GET", f"/api/tickets/{plain['number']}/duplicates")
    assert status == 200 and secret["number"] not in [r["number"] for r in rows]
    status, rows = await call(
        client, tokens, "supervisor", "GET", f"/api/tickets/{plain['number']}/duplicates"
    )
    assert secret["number"] in [r["number"] for r in rows]


async def test_a_body_dripped_slowly_is_cut_off_with_a_408(api, monkeypatch) -> None:
    """A client that never finishes its body holds no handler for long."""
    monkeypatch.setattr("hotline.kernel.api.routes.BODY_SECONDS", 0.5)
    client, tokens = api
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(
        (
            "POST /api/tickets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f'Authorization: Bearer {tokens["agent"]}\r\nContent-Length: 100\r\n\r\n{{"type"'
        ).encode()
    )
    await writer.drain()
    async with asyncio.timeout(5):
        status_line = await reader.readline()
    writer.close()
    assert status_line.startswith(b"HTTP/1.1 408")


async def test_the_callers_rating_of_the_call_shows_on_its_ticket_for_platform_staff_only(
    api, engine
) -> None:
    """The survey's key comes after the agent hung up: before or after the ticket is written."""
    client, tokens = api
    ivr = TicketDesk(engine, load_policy("zhijiang"), clock=lambda: NOW)
    await ivr.rate_call("1700000000.77", Satisfaction.DISSATISFIED, "1001")
    await ivr.rate_call("1700000000.77", Satisfaction.SATISFIED, "1001")  # a retried write: the first stands
    draft = ticket_draft("1700000000.77", "13800138000", "张三", "12345")
    said = {k: COMPLAINT[k] for k in ("type", "description", "category", "region")}
    status, ticket = await call(client, tokens, "agent", "POST", "/api/tickets", json={**draft, **said})
    assert status == 201, ticket
    number = ticket["number"]
    _, shown = await call(client, tokens, "supervisor", "GET", f"/api/tickets/{number}")
    assert shown["call_rating"] == {
        "rating": "dissatisfied",
        "label": "不满意",
        "agent": "1001",
        "at": NOW.isoformat(),
    }
    await call(
        client, tokens, "agent", "POST", f"/api/tickets/{number}/dispatch", json={"unit": "cgj.majiadian"}
    )
    _, seen = await call(client, tokens, "unit", "GET", f"/api/tickets/{number}")
    assert "call_rating" not in seen  # how a caller rated an agent is the platform's business

    draft = ticket_draft("1700000000.78", "13800138001", "李四", "12345")
    status, later = await call(client, tokens, "agent", "POST", "/api/tickets", json={**draft, **said})
    _, shown = await call(client, tokens, "agent", "GET", f"/api/tickets/{later['number']}")
    assert shown["call_rating"] is None  # not rated (yet)
    await ivr.rate_call("1700000000.78", Satisfaction.BASICALLY_SATISFIED, "1002")
    _, shown = await call(client, tokens, "agent", "GET", f"/api/tickets/{later['number']}")
    assert (shown["call_rating"]["rating"], shown["call_rating"]["agent"]) == ("basically_satisfied", "1002")


async def test_the_110_linkage_of_the_call_and_who_took_the_matter_show_on_its_ticket(api, engine) -> None:
    """国办发〔2022〕12号: a one-key transfer means 110 took it; after a three-way call the agent records
    whether 110 took it or 12345 keeps it because it received it first (首接负责)."""
    client, tokens = api
    calls = TicketDesk(engine, load_policy("zhijiang"), clock=lambda: NOW)
    said = {k: COMPLAINT[k] for k in ("type", "description", "category", "region")}

    async def ticket_of(call_id: str, phone: str) -> str:
        draft = ticket_draft(call_id, phone, "王五", "12345")
        status, ticket = await call(client, tokens, "agent", "POST", "/api/tickets", json={**draft, **said})
        assert status == 201, ticket
        return ticket["number"]

    await calls.note_linkage("1700000000.81", "110", "transfer", "1001")
    handed = await ticket_of("1700000000.81", "13800138011")
    _, shown = await call(client, tokens, "agent", "GET", f"/api/tickets/{handed}")
    assert shown["call_linkage"] == {
        "service": "110",
        "mode": "transfer",
        "agent": "1001",
        "at": NOW.isoformat(),
        "outcome": "taken",
        "outcome_label": "110受理",
    }

    await calls.note_linkage("1700000000.82", "110", "three-way", "1002")
    unclear = await ticket_of("1700000000.82", "13800138012")
    _, shown = await call(client, tokens, "agent", "GET", f"/api/tickets/{unclear}")
    assert (shown["call_linkage"]["outcome"], shown["call_linkage"]["outcome_label"]) == ("", "待议定")
    command = f"/api/tickets/{unclear}/record_linkage"
    status, refused = await call(client, tokens, "agent", "POST", command, json={"outcome": "maybe"})
    assert (status, refused["error_id"]) == (422, "invalid-field"), refused
    forged = {"outcome": "taken", "service": "119", "mode": "transfer"}  # what happened is the call's to say
    status, kept = await call(client, tokens, "agent", "POST", command, json={**forged, "outcome": "kept"})
    assert status == 200, kept
    assert kept["linkage"] == {"service": "110", "mode": "three-way", "outcome": "kept"}
    _, shown = await call(client, tokens, "supervisor", "GET", f"/api/tickets/{unclear}")
    assert shown["call_linkage"]["outcome_label"] == "12345承办（首接负责）"
    assert shown["events"][-1]["kind"] == "linkage_recorded"

    plain = await ticket_of("1700000000.83", "13800138013")
    status, refused = await call(
        client, tokens, "agent", "POST", f"/api/tickets/{plain}/record_linkage", json={"outcome": "kept"}
    )
    assert (status, refused["error_id"]) == (409, "no-linkage"), refused


async def test_quality_staff_read_tickets_as_the_platform_does_and_each_read_is_on_its_trail(api, engine):
    """Quality staff were once taken for a unit without a unit: they read a confidential 举报 before
    dispatch (an agent gets 403) and got 403 for every dispatched ticket."""
    client, tokens = api
    tokens = {**tokens, "quality": await Users(engine).add("质检员小周", "quality")}
    report = {**COMPLAINT, "type": "举报", "confidential": True, "caller_name": "举报人王五"}
    _, secret = await call(client, tokens, "supervisor", "POST", "/api/tickets", json=report)
    for who in ("agent", "quality"):
        status, refused = await call(client, tokens, who, "GET", f"/api/tickets/{secret['number']}")
        assert (status, refused["error_id"]) == (403, "confidential"), who
        assert "王五" not in json.dumps(refused, ensure_ascii=False)

    _, plain = await call(client, tokens, "agent", "POST", "/api/tickets", json=COMPLAINT)
    number = plain["number"]
    dispatch = {"unit": "cgj.majiadian"}
    await call(client, tokens, "agent", "POST", f"/api/tickets/{number}/dispatch", json=dispatch)
    status, seen = await call(client, tokens, "quality", "GET", f"/api/tickets/{number}")
    assert status == 200 and seen["status"] == "dispatched"
    assert (seen["intake"]["caller_name"], seen["intake"]["caller_phone"]) == ("李四", "13900139000")
    assert seen["events"][0]["data"]["intake"]["caller_phone"] == "13900139000", "the platform's history"
    _, rows = await call(client, tokens, "quality", "GET", "/api/tickets")
    assert [r["number"] for r in rows] == [number], "every ticket but the confidential one"
    _, trail = await call(client, tokens, "supervisor", "GET", f"/api/tickets/{number}/audit")
    assert [(t["user"], t["role"], t["fields"]) for t in trail] == [
        ("质检员小周", "quality", ["caller_name", "caller_phone", "callback_phone"])
    ], "the agents' reads are their work; quality staff's reads are on the trail"
