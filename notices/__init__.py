"""Notices out: SMS and email to units and citizens, through a persisted outbox."""
