"""Asterisk adapters: AMI client, FastAGI server, channel tracking, config rendering."""
