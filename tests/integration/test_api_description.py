"""Places where the description and the handlers once disagreed, each asked directly."""

from __future__ import annotations

from hotline.kernel.api.users import Users


async def test_a_unit_may_leave_only_its_parent_and_region_empty(api, engine):
    """``parent_code: null`` makes a 一级 unit, as the description says; a name or phone of null was a 500."""
    client, _, _, _ = api
    admin = {"Authorization": f"Bearer {await Users(engine).add('管理员', 'admin')}"}
    document = await (await client.get("/api/openapi.json")).json()
    fields = document["paths"]["/api/units/{code}"]["patch"]["requestBody"]["content"]["application/json"]
    nullable = {name for name, schema in fields["schema"]["properties"].items() if "null" in schema["type"]}
    assert nullable == {"parent_code", "region_code"}
    for body in ({"name": None}, {"phone": None}):
        response = await client.patch("/api/units/cgj.majiadian", json=body, headers=admin)
        answer = await response.json()
        assert (response.status, answer["error_id"], answer["field"]) == (422, "invalid-field", *body), answer
    response = await client.patch(
        "/api/units/cgj.majiadian", json={"parent_code": None, "region_code": None}, headers=admin
    )
    answer = await response.json()
    assert response.status == 200 and (answer["parent_code"], answer["level"]) == (None, 1), answer


async def test_empty_words_and_unknown_vocabulary_are_refused_as_described(api, engine):
    client, tokens, _, _ = api
    boss = {"Authorization": f"Bearer {tokens['supervisor']}"}
    document = await (await client.get("/api/openapi.json")).json()

    def parameter(path: str, name: str) -> dict:
        return next(p for p in document["paths"][path]["get"]["parameters"] if p["name"] == name)

    assert parameter("/api/kb", "q")["required"] is True
    assert parameter("/api/tickets", "status")["schema"]["enum"]
    assert parameter("/api/notices", "state")["schema"]["enum"] == ["failed", "pending", "sent"]
    assert parameter("/api/reports/kpi", "format")["schema"]["enum"] == ["csv", "json"]
    for path in (
        "/api/kb?q=",
        "/api/tickets?status=",
        "/api/notices?state=",
        "/api/reports/kpi?from=2026-01-01&to=2026-02-01&format=xml",  # was answered in JSON
    ):
        response = await client.get(path, headers=boss)
        assert response.status == 422, path
