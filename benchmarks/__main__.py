"""``make bench``: run every benchmark and print its figures."""

from benchmarks import acd_engine, ami_events, ready_to_ring, tickets

ami_events.main()
acd_engine.main([])
tickets.main([])
ready_to_ring.main([])
