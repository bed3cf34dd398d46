"""The roles the API's description lists for an operation (``x-roles``) are exactly the roles its handler
lets through: each role tries a request that is valid for it, and is refused for its role (403
``forbidden``) if and only if the description leaves it out."""

from __future__ import annotations

from aiohttp import FormData

from hotline.kernel.api.identity import Role
from hotline.kernel.api.users import Users
from tests.integration.helpers import COMPLAINT

UNIT = "cgj.majiadian"  # the fixture's unit user's unit
ARTICLE = {
    "question": "路灯坏了找谁",
    "answer": "城管",
    "category": "urban.management",
    "effective_from": "2026-01-01",
    "unit": UNIT,
}


async def test_the_roles_in_the_description_are_the_roles_the_handlers_let_through(api, engine):
    client, tokens, _, _ = api
    users = Users(engine)
    token = {
        Role.AGENT: tokens["1001"],
        Role.SUPERVISOR: tokens["supervisor"],
        Role.UNIT: tokens["unit"],
        Role.ADMIN: await users.add("管理员", "admin"),
        Role.QUALITY: await users.add("质检员", "quality"),
    }

    def as_(role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {token[role]}"}

    ticket = await (await client.post("/api/tickets", json=COMPLAINT, headers=as_(Role.AGENT))).json()
    number = ticket["number"]
    dispatched = await client.post(
        f"/api/tickets/{number}/dispatch", json={"unit": UNIT}, headers=as_(Role.SUPERVISOR)
    )
    assert dispatched.status == 200, await dispatched.text()  # the unit leads it: it may note and attach
    article = await (await client.post("/api/kb", json=ARTICLE, headers=as_(Role.ADMIN))).json()
    document = await (await client.get("/api/openapi.json")).json()

    def upload() -> FormData:
        form = FormData()
        form.add_field("file", b"photo", filename="photo.jpg", content_type="image/jpeg")
        return form

    tries = {
        ("post", "/api/kb"): lambda role: client.post("/api/kb", json=ARTICLE, headers=as_(role)),
        ("put", "/api/kb/{id}"): lambda role: client.put(
            f"/api/kb/{article['id']}", json=ARTICLE, headers=as_(role)
        ),
        ("post", "/api/kb/policy-changes"): lambda role: client.post(
            "/api/kb/policy-changes",
            json={"title": "新规", "categories": ["urban.management"]},
            headers=as_(role),
        ),
        ("post", "/api/tickets/{number}/attachments"): lambda role: client.post(
            f"/api/tickets/{number}/attachments", data=upload(), headers=as_(role)
        ),
        ("post", "/api/tickets/{number}/{command}"): lambda role: client.post(
            f"/api/tickets/{number}/note", json={"text": "已电话联系"}, headers=as_(role)
        ),
    }
    for (method, path), attempt in tries.items():
        listed = set(document["paths"][path][method]["x-roles"])
        let_through = set()
        for role in Role:
            response = await attempt(role)
            answer = await response.json()
            if response.status == 403:
                assert answer["error_id"] == "forbidden", (method, path, role, answer)
            else:
                assert response.status < 300, (method, path, role, response.status, answer)
                let_through.add(role.value)
        assert listed == let_through, (method, path)
    assert "quality" not in document["paths"]["/api/kb"]["post"]["x-roles"]
    assert "quality" not in document["paths"]["/api/tickets/{number}/attachments"]["post"]["x-roles"]
