"""The supervisors' wallboard in Debian's headless chromium, fed by the real lab.

A caller who starts waiting appears on the page, and an agent's break shows
with its reason, each as soon as the floor's event stream says so; today's
figures count the call. A screenshot is saved under var/test-artifacts/.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from playwright.async_api import async_playwright, expect

from lab.caller import place_call
from lab.controller import api_token
from tests.lab.test_acd import caller
from tests.lab.test_restarts import of_call

ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"  # Debian's; Playwright never downloads one here


async def test_the_wallboard_shows_a_new_waiting_caller_and_an_agents_break_as_they_happen(
    lab, lab_env, controller, settings, agents, supervisor_token
):
    await agents.only_ready()  # nobody answers: the caller waits
    await agents.command("1001", "login")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = await browser.new_page(viewport={"width": 1400, "height": 900})
        try:
            await page.goto(f"{controller.base_url}/wallboard")
            agent_token = await asyncio.to_thread(api_token, lab_env, "lab-agent-board", "agent")
            await page.fill("#token", agent_token)
            await page.click("button[type=submit]")
            await page.wait_for_selector("text=仅班长和管理员可查看大屏")

            await page.fill("#token", supervisor_token)
            await page.click("button[type=submit]")
            await page.wait_for_selector("#link.up")  # the page listens to the floor
            assert await page.inner_text('#agents tr[data-agent="1001"] td.state') == "小休"
            offered_before = int(await page.get_attribute("#tiles", "data-offered") or "-1")

            plan = caller(hold=60)
            async with agents.floor() as stream:
                await place_call(lab, plan)
                queued = await stream.wait_for(of_call(plan.caller_number, "acd.queued"), 60)
                told = time.monotonic()
                await page.wait_for_selector(f'#queue tr[data-call="{queued["call_id"]}"]', timeout=10_000)
                waiting_shown = time.monotonic() - told
                # Today's figures move with the call, pushed as reports.live (at most every 2 s).
                tiles = page.locator("#tiles")
                await expect(tiles).to_have_attribute("data-offered", str(offered_before + 1), timeout=10_000)
                figures_shown = time.monotonic() - told
                await expect(page.locator("#chart rect.offered")).not_to_have_count(0)

                await agents.command("1001", "break", reason="用餐")
                await stream.wait_for(
                    lambda e: e.get("type") == "agent.state" and e.get("break_reason") == "用餐", 10
                )
                told = time.monotonic()
                # Locators, not page-side expressions: the page's CSP allows no eval.
                agent_row = page.locator('#agents tr[data-agent="1001"]')
                await expect(agent_row).to_contain_text("用餐", timeout=10_000)
                break_shown = time.monotonic() - told
                assert await page.inner_text("#waiting-count") == "1"
                lines = await page.inner_text("#lines")
                assert "12345" in lines, lines
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                await page.screenshot(path=str(ARTIFACTS / "wallboard.png"), full_page=True)

                # An agent answers: the caller leaves the board (and, answered, is owed no callback).
                await agents.phone("1002", talk_seconds=1)
                await agents.command("1002", "ready")
                await stream.wait_for(of_call(plan.caller_number, "call.bridged"), 30)
                await expect(page.locator("#waiting-count")).to_have_text("0", timeout=10_000)
                await stream.wait_for(of_call(plan.caller_number, "call.hangup"), 30)
            print(
                "wallboard: "
                f"waiting call shown {waiting_shown:.2f} s, break {break_shown:.2f} s after its event; "
                f"today's figures {figures_shown:.2f} s after the call queued"
            )
        finally:
            await browser.close()
            await agents.hang_up_everything()
