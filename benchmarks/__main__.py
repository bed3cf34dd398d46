"""``make bench``: run every benchmark and print its figures."""

from benchmarks import acd_engine, ami_events, call_reports, ready_to_ring, speech, tickets, transfer

ami_events.main()
acd_engine.main([])
tickets.main([])
call_reports.main([])
ready_to_ring.main([])
transfer.main([])
speech.main([])
