"""The wallboard page by either of its addresses, in Debian's chromium against a test server: the same
page headers on both, a policy that lets the page reach only its own host (its event socket included,
which still connects) and no other site frame it (its 监听/强插 buttons are worth clickjacking)."""

from __future__ import annotations

import asyncio

from playwright.async_api import async_playwright

from hotline.kernel.api.web import PAGE_POLICY

CHROMIUM = "/usr/bin/chromium"  # Debian's; Playwright never downloads one here
PAGES = ("/wallboard", "/static/supervision/wallboard.html")


async def test_every_address_of_the_wallboard_sends_the_page_headers(api):
    client, _, _, _ = api
    for path in PAGES:
        response = await client.get(path)
        assert response.status == 200 and response.content_type == "text/html", path
        policy = response.headers.get("Content-Security-Policy", "")
        assert policy == PAGE_POLICY, (path, policy)
        assert "frame-ancestors 'none'" in policy and "connect-src 'self'" in policy
        assert "ws:" not in policy and "wss:" not in policy, "no other host's socket"
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
    for path in ("/static/supervision/wallboard.js", "/static/supervision/wallboard.css"):
        assert (await client.get(path)).headers["X-Content-Type-Options"] == "nosniff", path


async def test_the_static_wallboard_connects_its_socket_under_the_policy_and_no_site_frames_it(api):
    client, tokens, _, _ = api
    base_url = str(client.make_url("")).rstrip("/")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = await browser.new_page()
            said: list[str] = []
            page.on("console", lambda message: said.append(message.text))
            await page.goto(f"{base_url}/static/supervision/wallboard.html")
            await page.fill("#token", tokens["supervisor"])
            await page.click("button[type=submit]")
            await page.wait_for_selector("#link.up", timeout=15_000)  # the event socket is open
            refused = [text for text in said if "Content Security Policy" in text]
            assert refused == [], refused

            # Another site puts both addresses in frames: the browser shows neither.
            framing = await browser.new_page()
            frames = "".join(f'<iframe src="{base_url}{path}"></iframe>' for path in PAGES)
            await framing.set_content(f"<html><body>{frames}</body></html>")
            await asyncio.sleep(1.0)  # the frames' navigations end, refused or not
            assert len(framing.frames) == 1 + len(PAGES)
            for frame in framing.frames[1:]:
                assert await frame.query_selector("#token") is None, frame.url
        finally:
            await browser.close()
