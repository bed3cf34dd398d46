"""Structured log lines: the message, then every ``extra`` field as key=value.

So ``log.info("agent answered", extra={"call_id": ..., "agent": ...})`` can be
followed by grepping a call id from the INVITE to the archived ticket.
"""

from __future__ import annotations

import logging

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        if extras:
            line += " " + " ".join(f"{k}={v}" for k, v in sorted(extras.items()))
        return line


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(KeyValueFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # The access log repeats every request with a dozen fields; health checks would drown the rest.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # Alembic narrates every start ("Context impl SQLiteImpl"); upgrades it runs are still logged by us.
    logging.getLogger("alembic").setLevel(logging.WARNING)
