"""The routing brain: pure logic, no I/O. Given waiting calls, agents and the time, who gets which call."""
