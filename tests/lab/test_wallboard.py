"""The supervisors' wallboard in Debian's headless chromium, fed by the real lab.

A caller who starts waiting appears on the page by their number, and an
agent's break shows with its reason, each as soon as the floor's event stream
says so; today's figures count the call as waiting (neither answered nor
abandoned, in no rate) until it is answered. A screenshot is saved under
var/test-artifacts/.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from playwright.async_api import async_playwright, expect

from hotline.ivr.prompts import synthesize
from hotline.lab.caller import place_call
from hotline.lab.controller import ControllerProcess, api_token
from tests.lab.conftest import api
from tests.lab.helpers import caller, caller_plan, first, of_call, speak_after_the_beep
from tests.lab.korean_speech import MODEL, SPOKEN, offline

ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"  # Debian's; Playwright never downloads one here


async def live_figures(agents) -> dict:
    status, live = await api("GET", f"{agents.base_url}/api/reports/live", agents.token)
    assert status == 200, live
    return live


async def record_of(agents, call_id: str) -> dict:
    status, records = await api("GET", f"{agents.base_url}/api/reports/records?limit=50", agents.token)
    assert status == 200, records
    return next(record for record in records if record["call_id"] == call_id)


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
            before = await live_figures(agents)

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
                # Issue 28: the caller waiting is shown apart, neither answered nor abandoned, in no rate.
                waiting_count = str(before["today"]["waiting"] + 1)
                await expect(tiles).to_have_attribute("data-waiting", waiting_count, timeout=10_000)
                await expect(tiles).to_have_attribute("data-abandoned", str(before["today"]["abandoned"]))
                waiting = await live_figures(agents)
                today, last_24h = waiting["today"], waiting["last_24h"]
                assert (today["waiting"], today["abandoned"], today["answered"]) == (
                    before["today"]["waiting"] + 1,
                    before["today"]["abandoned"],
                    before["today"]["answered"],
                ), today
                assert (last_24h["requested"], last_24h["answer_rate"], last_24h["waiting"]) == (
                    before["last_24h"]["requested"],
                    before["last_24h"]["answer_rate"],
                    before["last_24h"]["waiting"] + 1,
                ), last_24h
                record = await record_of(agents, queued["call_id"])
                assert (record["outcome"], record["ended_at"]) == ("in_progress", None), record
                # The queue names the caller by their number (whole: supervisors see it so), not the call id.
                row = page.locator(f'#queue tr[data-call="{queued["call_id"]}"]')
                await expect(row.locator("td.number")).to_have_text(plan.caller_number, timeout=10_000)
                assert queued["call_id"] not in await row.inner_text()

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
                answered_count = str(before["today"]["answered"] + 1)
                await expect(tiles).to_have_attribute("data-answered", answered_count, timeout=10_000)
                await expect(tiles).to_have_attribute("data-waiting", str(before["today"]["waiting"]))
                await page.screenshot(path=str(ARTIFACTS / "wallboard-answered.png"), full_page=True)
                await stream.wait_for(of_call(plan.caller_number, "call.hangup"), 30)
            answered = await live_figures(agents)
            assert (answered["today"]["abandoned"], answered["last_24h"]["requested"]) == (
                before["today"]["abandoned"],
                before["last_24h"]["requested"] + 1,
            ), answered
            assert (await record_of(agents, queued["call_id"]))["outcome"] == "answered"
            print(
                "wallboard: "
                f"waiting call shown {waiting_shown:.2f} s, break {break_shown:.2f} s after its event; "
                f"today's figures {figures_shown:.2f} s after the call queued"
            )
        finally:
            await browser.close()
            await agents.hang_up_everything()


async def test_an_emergency_heard_in_a_waiting_callers_words_alerts_the_wallboard(
    lab, lab_env, block, scratch, controller, settings, agents, supervisor_token, tmp_path
):
    """The caller's description, transcribed while they wait, holds a word of the deployment's emergency list:
    the supervisors' wallboard offers 119 before any agent has answered. The caller speaks Korean (the only
    model here), so the list is made of words the same model hears in that speech offline."""
    made = block.scratch
    await asyncio.to_thread(synthesize, SPOKEN, f"{made}/alert-source", lab.run, "ko")
    lab.run(["sox", f"{made}/alert-source.wav", "-e", "a-law", f"{made}/alert-alaw.wav"])
    lab.run(["sox", f"{made}/alert-alaw.wav", "-e", "signed-integer", "-b", "16", f"{made}/alert.wav"])
    heard = await asyncio.to_thread(offline, scratch / "alert.wav", {**lab_env})
    words = sorted({word for word in heard["text"].split() if len(word) >= 2})
    assert words, heard
    keywords = tmp_path / "keywords.toml"
    # A JSON list of strings is a TOML array.
    keywords.write_text(f'[emergency]\n"119" = {json.dumps(words, ensure_ascii=False)}\n', encoding="utf-8")
    controller.stop()  # the same ports, with speech-to-text and the deployment's emergency words
    alerting = ControllerProcess(
        {**lab_env, "HOTLINE_STT_MODEL": str(MODEL), "HOTLINE_PREFILL_KEYWORDS": str(keywords)},
        settings,
        tmp_path / "alerting.log",
    )
    alerting.start()
    try:
        await agents.only_ready()
        await agents.command("1001", "login")  # on a break: nobody answers while the caller waits
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = await browser.new_page(viewport={"width": 1400, "height": 900})
            try:
                await page.goto(f"{alerting.base_url}/wallboard")
                await page.fill("#token", supervisor_token)
                await page.click("button[type=submit]")
                await page.wait_for_selector("#link.up")
                plan = caller_plan(
                    say="",
                    wav=scratch / "alert-source.wav",
                    say_after=speak_after_the_beep(lab, settings),
                    hold=60,
                )
                async with agents.floor() as stream:
                    await place_call(lab, plan)
                    await stream.wait_for(of_call(plan.caller_number, "ivr.intake_recorded"), 90)
                    recorded = time.monotonic()
                    alerts = page.locator("#alerts li.warn", has_text=f"来电 {plan.caller_number}")
                    await expect(alerts).to_contain_text("疑似紧急情况，可转 119", timeout=30_000)
                    shown = time.monotonic() - recorded
                    alert = await stream.wait_for(of_call(plan.caller_number, "speech.emergency"), 5)
                    assert first(stream.events, "call.bridged", caller_number=plan.caller_number) is None
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                await page.screenshot(path=str(ARTIFACTS / "wallboard-emergency.png"), full_page=True)
            finally:
                await browser.close()
    finally:
        alerting.stop()
        controller.start()  # the fixture stops what it started
        await agents.hang_up_everything()
    print(
        f"emergency alert: on the wallboard {shown:.1f} s after the recording ended, words {alert['words']}"
    )
    assert alert["number"] == "119" and set(alert["words"]) <= set(words)
