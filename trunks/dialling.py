"""What may be dialled out: the deployment's dialling plan, the one guard against toll fraud.

A callback once dialled whatever caller number arrived (``0088216123456``, a
satellite number, reached the carrier). Only these go out: mainland mobiles,
local landlines, landlines behind the area codes the deployment lists, and the
service numbers it lists (110, 12315, ...). International prefixes, premium
and short numbers are refused unless listed. The controller checks every
number before it asks Asterisk to dial, and the dialplan checks again with
patterns made from the same plan, so a forged ``Originate`` is refused too.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

from hotline.kernel.runtime.events import Publish

log = logging.getLogger(__name__)

MOBILE = re.compile(r"1[3-9][0-9]{9}")
LOCAL_LANDLINE = re.compile(r"[2-9][0-9]{6,7}")
AREA_CODE = re.compile(r"0[1-9][0-9]{1,2}")
DEFAULT_SERVICE_NUMBERS = ("110", "119", "120", "122", "12315", "12333", "12329")


class DiallingPlanError(ValueError):
    """A listed area code or service number is malformed."""


@dataclass(frozen=True)
class DiallingPlan:
    area_codes: frozenset[str] = frozenset()
    service_numbers: frozenset[str] = frozenset(DEFAULT_SERVICE_NUMBERS)

    @classmethod
    def of(cls, area_codes: Iterable[str], service_numbers: Iterable[str]) -> DiallingPlan:
        codes, numbers = frozenset(area_codes), frozenset(service_numbers)
        for code in codes:
            if not AREA_CODE.fullmatch(code):
                raise DiallingPlanError(f"area code {code!r} is not like 0717 or 027")
        for number in numbers:
            if not number.isdigit() or not 3 <= len(number) <= 8:
                raise DiallingPlanError(f"service number {number!r} is not 3-8 digits")
        return cls(codes, numbers)

    def refusal(self, number: str) -> str | None:
        """Why ``number`` may not be dialled, or None when it may."""
        if number in self.service_numbers:
            return None
        if not number.isdigit():
            return "not a plain number"
        if number.startswith("00"):
            return "international prefix"
        if MOBILE.fullmatch(number) or LOCAL_LANDLINE.fullmatch(number):
            return None
        if number.startswith("0"):
            for code in self.area_codes:
                if number.startswith(code) and LOCAL_LANDLINE.fullmatch(number.removeprefix(code)):
                    return None
            return "area code not in the dialling plan"
        return "not a mobile, local or listed number"

    def allows(self, number: str) -> bool:
        return self.refusal(number) is None

    def dialplan_patterns(self) -> list[str]:
        """The same plan as Asterisk extension patterns (exact numbers first)."""
        patterns = sorted(self.service_numbers)
        patterns += ["_1[3-9]XXXXXXXXX", "_[2-9]XXXXXX", "_[2-9]XXXXXXX"]
        for code in sorted(self.area_codes):
            patterns += [f"_{code}[2-9]XXXXXX", f"_{code}[2-9]XXXXXXX"]
        return patterns


class OutboundGuard:
    """Checks numbers against the plan; every refusal is counted and published for supervisors."""

    def __init__(self, plan: DiallingPlan, publish: Publish) -> None:
        self.plan = plan
        self.publish = publish
        self.refused = 0

    async def allow(self, number: str, *, where: str, call_id: str = "") -> bool:
        reason = self.plan.refusal(number)
        if reason is None:
            return True
        await self.report(number, reason, where=where, call_id=call_id)
        return False

    async def report(self, number: str, reason: str, *, where: str, call_id: str = "") -> None:
        """A refusal seen here, or by the dialplan's own check (its AMI UserEvent)."""
        self.refused += 1
        log.warning("outbound %s refused at %s: %s", number[:24], where, reason, extra={"security": True})
        await self.publish(
            {
                "type": "security.outbound_refused",
                "number": number[:24],
                "reason": reason,
                "where": where,
                "call_id": call_id,
                "count": self.refused,
            }
        )
