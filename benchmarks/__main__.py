"""``make bench``: run every benchmark and print its figures."""

from benchmarks import ami_events, tickets

ami_events.main()
tickets.main([])
