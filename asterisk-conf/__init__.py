"""Asterisk's configuration as Jinja2 templates, rendered with the deployment's settings.

A package only so that the templates travel inside the installed ``hotline`` (as ``hotline.asterisk_conf``).
"""
