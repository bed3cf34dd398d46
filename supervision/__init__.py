"""Supervisors on the floor: listening to, whispering into and barging into agents' calls."""
