"""The knowledge base: versions, Chinese word search on both databases, reminders after a policy change."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hotline.kernel.api.identity import Actor, Role
from hotline.ticketing.errors import TicketError
from hotline.ticketing.policy import load_policy
from hotline.ticketing.service import TicketDesk

TZ = ZoneInfo("Asia/Shanghai")
SUPERVISOR = Actor("李班长", Role.SUPERVISOR)
INSURANCE = Actor("医保局", Role.UNIT, "ybj")
WAGES = Actor("人社局", Role.UNIT, "rsj")
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=TZ)
TODAY = NOW.date()
CARD = {
    "question": "医保卡丢失了怎么补办？",
    "answer": "携带身份证到市政务服务中心医疗保障窗口办理，当场制卡。",
    "category": "labour.insurance",
    "effective_from": "2026-01-01",
    "source_document": "枝医保发〔2026〕3号",
}
WAGE = {
    "question": "单位拖欠工资怎么办？",
    "answer": "可向市劳动保障监察大队投诉，或申请劳动仲裁。",
    "category": "labour.wages",
    "effective_from": "2026-01-01",
}


@pytest.fixture
async def kb(engine):
    desk = TicketDesk(engine, load_policy("zhijiang"), clock=lambda: NOW)
    await desk.start()
    return desk.kb


async def test_two_character_words_find_their_articles(kb) -> None:
    card = await kb.create(CARD, INSURANCE, NOW)
    wage = await kb.create(WAGE, WAGES, NOW)
    assert [a["id"] for a in await kb.search("医保", TODAY)] == [card["id"]]
    assert [a["id"] for a in await kb.search("补办身份证", TODAY)] == [card["id"]]
    assert [a["id"] for a in await kb.search("工资", TODAY)] == [wage["id"]]
    assert await kb.search("天气预报", TODAY) == []
    with pytest.raises(TicketError) as caught:
        await kb.search("？！", TODAY)
    assert caught.value.details["field"] == "q"


async def test_a_new_version_replaces_what_search_finds_and_keeps_history(kb) -> None:
    card = await kb.create(CARD, INSURANCE, NOW)
    updated = await kb.update(
        card["id"],
        {**CARD, "answer": "可在“鄂汇办”APP在线申请补办，邮寄到家。"},
        INSURANCE,
        NOW + timedelta(days=1),
    )
    assert updated["version"] == 2 and [v["version"] for v in updated["versions"]] == [2, 1]
    assert updated["versions"][1]["answer"].startswith("携带身份证")
    assert [a["id"] for a in await kb.search("邮寄", TODAY)] == [card["id"]]
    assert await kb.search("窗口", TODAY) == []  # the old answer's words are gone from the index


async def test_only_articles_in_force_are_found(kb) -> None:
    await kb.create({**CARD, "effective_from": "2027-01-01"}, INSURANCE, NOW)
    old = await kb.create(
        {
            **WAGE,
            "question": "2025年最低工资标准",
            "effective_from": "2025-01-01",
            "expires_on": "2026-01-01",
        },
        WAGES,
        NOW,
    )
    assert await kb.search("医保", TODAY) == []
    assert await kb.search("最低工资", TODAY) == []
    assert [a["id"] for a in await kb.search("最低工资", date(2025, 6, 1))] == [old["id"]]


async def test_units_write_only_their_own_articles(kb) -> None:
    card = await kb.create(CARD, INSURANCE, NOW)
    with pytest.raises(TicketError) as caught:
        await kb.update(card["id"], CARD, WAGES, NOW)
    assert caught.value.error_id == "not-your-article"
    with pytest.raises(TicketError) as caught:
        await kb.create({**CARD, "unit": "rsj"}, INSURANCE, NOW)
    assert caught.value.details["field"] == "unit"
    for bad, field in [
        ({**CARD, "category": "nope"}, "category"),
        ({**CARD, "question": ""}, "question"),
        ({**CARD, "expires_on": "2025-01-01"}, "expires_on"),
        ({**CARD, "effective_from": "soon"}, "effective_from"),
    ]:
        with pytest.raises(TicketError) as caught:
            await kb.create(bad, INSURANCE, NOW)
        assert caught.value.details["field"] == field


async def test_policy_change_reminds_units_within_five_working_days(kb) -> None:
    card = await kb.create(CARD, INSURANCE, NOW)
    wage = await kb.create(WAGE, WAGES, NOW)
    change = await kb.policy_change({"title": "医保卡线上补办新规", "categories": ["labour.insurance"]}, NOW)
    assert change["articles"] == [card["id"]] and change["review_due"] == "2026-11-09T09:00:00+08:00"
    assert [r["id"] for r in await kb.reminders(INSURANCE, NOW)] == [card["id"]]
    assert await kb.reminders(WAGES, NOW) == []
    late = await kb.reminders(SUPERVISOR, NOW + timedelta(days=8))
    assert late[0]["overdue"] is True and late[0]["reason"] == "医保卡线上补办新规"
    await kb.update(card["id"], CARD, INSURANCE, NOW + timedelta(days=1))
    assert await kb.reminders(SUPERVISOR, NOW) == []
    assert wage["review_due"] is None


async def test_times_are_the_deployments_whatever_zone_the_clock_speaks(engine) -> None:
    """Issue 28's review: the server's clock speaks UTC; an article's times came back in UTC, and a policy
    change's review was counted in working hours of UTC's day, not the city's."""
    desk = TicketDesk(engine, load_policy("zhijiang"), clock=lambda: NOW.astimezone(UTC))
    await desk.start()
    card = await desk.kb.create(CARD, INSURANCE, desk.clock())
    assert card["created_at"] == "2026-11-02T09:00:00+08:00"
    change = await desk.kb.policy_change(
        {"title": "医保卡线上补办新规", "categories": ["labour.insurance"]}, desk.clock()
    )
    assert change["review_due"] == "2026-11-09T09:00:00+08:00", "five of the city's working days"
    [reminder] = await desk.kb.reminders(SUPERVISOR, desk.clock())
    assert reminder["review_due"] == (await desk.kb.get(card["id"]))["review_due"] == change["review_due"]
