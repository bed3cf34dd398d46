"""The dialling plan: what may be dialled out, and the same plan as dialplan patterns."""

import re

import pytest

from hotline.trunks.dialling import DiallingPlan, DiallingPlanError, OutboundGuard

PLAN = DiallingPlan.of(area_codes=["0717", "027"], service_numbers=["110", "12315"])


@pytest.mark.parametrize(
    "number",
    ["13800138000", "19912345678", "6231234", "62312345", "071762312345", "02787654321", "110", "12315"],
)
def test_mobiles_local_landlines_listed_area_codes_and_services_may_be_dialled(number):
    assert PLAN.allows(number)


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("0088216123456", "international prefix"),
        ("008613800138000", "international prefix"),
        ("+8613800138000", "not a plain number"),
        ("13800138000,HOTLINE_NEXT=x", "not a plain number"),
        ("01012345678", "area code not in the dialling plan"),
        ("4008123123", "not a mobile, local or listed number"),
        ("95555", "not a mobile, local or listed number"),
        ("12333", "not a mobile, local or listed number"),
        ("10086", "not a mobile, local or listed number"),
        ("12800138000", "not a mobile, local or listed number"),
        ("", "not a plain number"),
    ],
)
def test_everything_else_is_refused_with_a_reason(number, reason):
    assert PLAN.refusal(number) == reason


def asterisk_pattern(pattern: str) -> re.Pattern[str]:
    """Asterisk's pattern letters, to check the rendered patterns mean the same plan."""
    if not pattern.startswith("_"):
        return re.compile(re.escape(pattern))
    body = pattern[1:].replace("X", "[0-9]").replace("Z", "[1-9]").replace("N", "[2-9]")
    return re.compile(body)


@pytest.mark.parametrize(
    "number", ["13800138000", "6231234", "071762312345", "110", "0088216123456", "01012345678", "4008123123"]
)
def test_the_dialplan_patterns_say_what_the_plan_says(number):
    patterns = [asterisk_pattern(p) for p in PLAN.dialplan_patterns()]
    assert any(p.fullmatch(number) for p in patterns) is PLAN.allows(number)


@pytest.mark.parametrize(("codes", "numbers"), [(["717"], []), (["0717x"], []), ([], ["11"]), ([], ["1a0"])])
def test_a_malformed_plan_is_refused(codes, numbers):
    with pytest.raises(DiallingPlanError):
        DiallingPlan.of(codes, numbers)


async def test_every_refusal_is_counted_and_published():
    published = []

    async def publish(event):
        published.append(event)

    guard = OutboundGuard(PLAN, publish)
    assert await guard.allow("13800138000", where="callback")
    assert not await guard.allow("0088216123456", where="callback", call_id="c1")
    await guard.report("0099", "refused by the dialplan", where="dialplan")
    assert [(e["where"], e["count"]) for e in published] == [("callback", 1), ("dialplan", 2)]
    assert published[0]["type"] == "security.outbound_refused" and published[0]["call_id"] == "c1"
