"""Carriers and numbers: which dialled number is which line, and what may be dialled out."""
