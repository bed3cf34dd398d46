"""``make bench``: run every benchmark and print its figures."""

from benchmarks import ami_events

ami_events.main()
