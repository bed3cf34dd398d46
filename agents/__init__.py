"""Agent and supervisor sessions, their phones and their states."""
