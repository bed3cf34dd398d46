"""``make bench``: run every benchmark and print its figures."""

from benchmarks import acd_engine, ami_events, tickets

ami_events.main()
acd_engine.main([])
tickets.main([])
