"""The kernel: what every capability builds on, importing none of them.

``kernel.asterisk`` talks to Asterisk (AMI, FastAGI, channel tracking, config
rendering); ``kernel.api`` is the web API's machinery (routes, bearer tokens,
roles and actors, errors, OpenAPI, the event hub); ``kernel.runtime`` holds
settings, the database, live state in Redis, the event catalogue, logging
and the bounded stop.
"""
