"""Transfers and conferences after an agent answers: blind and attended transfers, three-way calls, 110."""
