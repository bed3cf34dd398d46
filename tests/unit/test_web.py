"""The web server's answers a monitoring system and a browser rely on."""

from aiohttp.test_utils import TestClient, TestServer

from hotline.kernel.api.hub import EventHub
from hotline.kernel.api.web import create_app


async def client_with(checks: dict[str, bool]) -> TestClient:
    async def health() -> dict[str, bool]:
        return checks

    client = TestClient(TestServer(create_app(health, EventHub(redis=None))))  # type: ignore[arg-type]
    await client.start_server()
    return client


async def test_healthz_is_ok_when_every_dependency_answers():
    client = await client_with({"ami": True, "redis": True, "database": True})
    response = await client.get("/healthz")
    assert response.status == 200 and (await response.json())["status"] == "ok"
    await client.close()


async def test_healthz_names_what_is_down_with_503():
    client = await client_with({"ami": False, "redis": True, "database": True})
    response = await client.get("/healthz")
    body = await response.json()
    assert response.status == 503
    assert body == {"status": "degraded", "checks": {"ami": False, "redis": True, "database": True}}
    await client.close()
