"""Who may hear a recording (枝江 第二十六条: call recordings are not handed out without approval). Pure.

- Supervisors, quality staff and administrators: any recording, for a stated reason.
- An agent: the recordings of calls they answered, for a while after the call (quality review of their
  own work), never a colleague's.
- A unit: none, unless a supervisor granted that unit that one recording.
- A recording of a confidential ticket's call (a 举报 caller's voice): only the roles the deployment lets
  read confidential tickets (``ticketing.privacy``), whoever else would hear it; nobody else even lists it.

A search of the transcripts shows reviewers where words were said, never a whole transcript.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from hotline.kernel.api.identity import Actor, Role

REVIEWERS = frozenset({Role.SUPERVISOR, Role.QUALITY, Role.ADMIN})
#: What the trail keeps of why (its column's width).
REASON_LIMIT = 200
#: The longest reason a person may give: the trail keeps it whole, with what they searched for.
REASON_MAX = 100
#: How many characters a search shows on either side of each match: enough to judge it, not the transcript.
SNIPPET_CONTEXT = 20
#: At most this many snippets of one recording: a word said all along shows where, not everything said.
SNIPPETS_MAX = 5


def search_reason(reason: str, words: str) -> str:
    """A search on the trail: why, and what was looked for."""
    return f"{reason}（检索：{words}）"


#: The longest words a search looks for: with the longest reason, the trail still keeps both whole.
WORDS_MAX = REASON_LIMIT - len(search_reason("x" * REASON_MAX, ""))


@dataclass(frozen=True)
class Heard:
    """What the rules need to know of one recording."""

    agent: str
    started_at: datetime
    granted_units: frozenset[str] = frozenset()
    #: The call is about a confidential ticket.
    confidential: bool = False


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    error_id: str = ""
    message: str = ""


ALLOWED = Verdict(True)


def may_hear_confidential(actor: Actor, confidential_roles: Collection[Role]) -> bool:
    """Whether this person may hear (and list, and find) the recordings of confidential tickets' calls."""
    return actor.role in confidential_roles


def may_hear(
    recording: Heard,
    actor: Actor,
    now: datetime,
    agent_window: timedelta,
    confidential_roles: Collection[Role] = frozenset(),
) -> Verdict:
    """``confidential_roles``: who may hear a confidential ticket's call (the ticket desk's rule). A person
    who would not hear the recording anyway is told why not as for any other, so a refusal says nothing
    of a ticket they may not see."""
    verdict = _may_hear_any(recording, actor, now, agent_window)
    if verdict.allowed and recording.confidential and not may_hear_confidential(actor, confidential_roles):
        return Verdict(False, "confidential", "该录音所属工单为保密件，仅限指定角色收听")
    return verdict


def _may_hear_any(recording: Heard, actor: Actor, now: datetime, agent_window: timedelta) -> Verdict:
    if actor.role in REVIEWERS:
        return ALLOWED
    if actor.role == Role.AGENT:
        if recording.agent != actor.name:
            return Verdict(False, "not-your-call", "坐席只能收听自己接听的通话录音")
        if now - recording.started_at > agent_window:
            days = agent_window.days
            return Verdict(False, "too-old", f"坐席只能收听 {days} 天内自己接听的通话录音，更早的请找班长")
        return ALLOWED
    if actor.role == Role.UNIT and actor.unit in recording.granted_units:
        return ALLOWED
    return Verdict(False, "not-granted", "承办单位收听录音须经班长逐条授权")


def may_list(actor: Actor) -> Verdict:
    """Units find recordings only through what was granted to them; listing is for the platform."""
    if actor.role == Role.UNIT:
        return Verdict(False, "not-granted", "承办单位不能查询录音列表")
    return ALLOWED


def snippets(text: str, words: str, context: int = SNIPPET_CONTEXT, most: int = SNIPPETS_MAX) -> list[str]:
    """The bits of a transcript around each match of ``words`` (letter case aside, as SQLite's LIKE), with
    ``context`` characters either side and "…" where the text goes on. A match the previous bit shows adds
    none; no bit is longer than ``words`` and twice ``context``, so a caller's name and number said further
    off stay out of the answer."""
    found: list[str] = []
    shown_up_to = 0
    for match in re.finditer(re.escape(words), text, re.IGNORECASE):
        if len(found) == most:
            break
        if found and match.end() <= shown_up_to:
            continue
        start, shown_up_to = max(0, match.start() - context), min(len(text), match.end() + context)
        before, after = "…" if start else "", "…" if shown_up_to < len(text) else ""
        found.append(f"{before}{text[start:shown_up_to]}{after}")
    return found
