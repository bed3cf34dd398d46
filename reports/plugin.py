"""Call reports wired from the core: the record book hears every event the controller publishes and
writes each call's record and the agents' intervals; its routes answer the reports."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Collection, Sequence
from datetime import tzinfo

from hotline.kernel.asterisk.ami import Message
from hotline.kernel.asterisk.channels import GONE_WHILE_AWAY, LiveCall
from hotline.kernel.runtime.outbox import EVERY_EVENT
from hotline.kernel.wiring import Deps, Plugin
from hotline.reports.book import RecordBook
from hotline.reports.http import REPORT_ROUTES, add_reports
from hotline.reports.store import RecordStore


@dataclasses.dataclass(frozen=True)
class Reports:
    records: RecordBook
    plugin: Plugin


def setup(
    deps: Deps, zone: tzinfo, lines: Collection[str], live_calls: Callable[[], dict[str, LiveCall]]
) -> Reports:
    records = RecordBook(RecordStore(deps.engine, zone), lines, deps.outbox.publish, deps.clock)

    async def reconciled(_channels: Sequence[Message]) -> None:
        records.reconciled(set(live_calls()), GONE_WHILE_AWAY)

    plugin = Plugin(
        "reports",
        routes=REPORT_ROUTES,
        app_keys=functools.partial(add_reports, book=records),
        published=[(EVERY_EVENT, records.hear)],
        start=[records.start],
        tasks=[("call-records", records.run)],
        reconcile=[reconciled],
        # after the last events: what the calls published on their way out is in the records
        finish=[("call records", records.write)],
    )
    return Reports(records, plugin)
