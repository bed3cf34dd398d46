"""Seat administration: the agent table, profiles and skills, phones provisioned from it, fallback queue."""
