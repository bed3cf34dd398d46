"""What supervisors hear of the carrier trunks: one that stops answering, one that is back, and each
outbound call a trunk could not carry (the dialplan then tried the next one)."""

from __future__ import annotations

from collections.abc import Mapping

#: Asterisk's qualify verdicts on a trunk's contact, as the floor reads them.
VERDICTS = {"Reachable": "reachable", "Unreachable": "unreachable"}


class TrunkWatch:
    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        self.status: dict[str, str] = {}

    def hear(self, event: Mapping[str, object]) -> dict[str, object] | None:
        """The floor event this AMI event makes, if any: a change of a trunk's state, or a failover."""
        if event.get("Event") == "ContactStatus" and event.get("AOR") in self.names:
            trunk, verdict = str(event["AOR"]), VERDICTS.get(str(event.get("ContactStatus", "")))
            if verdict is None or self.status.get(trunk) == verdict:
                return None
            self.status[trunk] = verdict
            return {"type": "trunk.status", "trunk": trunk, "status": verdict}
        if event.get("UserEvent") == "HotlineTrunkFailed" and event.get("Trunk") in self.names:
            trunk = str(event["Trunk"])
            following = self.names[self.names.index(trunk) + 1 :]
            return {
                "type": "trunk.failover",
                "trunk": trunk,
                "number": str(event.get("Number", "")),
                "dial_status": str(event.get("DialStatus", "")),
                "next": following[0] if following else "",
            }
        return None
