"""What the IVR asks about the centre and the caller before queueing: is anyone answering, and is this
number calling again today (a third call the same day jumps ahead of first calls)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from hotline.ticketing.service import TicketDesk

#: Records one call of a number on a day and returns how many that number made that day.
NoteCall = Callable[[str, dict[str, object], str], Awaitable[int]]


class CallerDay:
    """Both answers come from the ticket desk's policy and calendar: hours, 调休 days, time zone."""

    def __init__(self, desk: TicketDesk, note_call: NoteCall) -> None:
        self.desk = desk
        self.note_call = note_call

    def answering_now(self) -> bool:
        policy = self.desk.policy
        now = self.desk.clock().astimezone(policy.timezone)
        return policy.answering_hours.open_at(now, self.desk.calendar)

    async def count_call(self, about: Mapping[str, object]) -> int:
        """Note this call; how many times its number called today, this call included."""
        number = str(about.get("caller_number", ""))
        if not number:
            return 1
        today = self.desk.clock().astimezone(self.desk.policy.timezone)
        entry = {"call_id": about["call_id"], "line": about["line"], "at": today.isoformat()}
        return await self.note_call(number, entry, today.date().isoformat())
