"""Automatic call distribution: the pure routing engine (``engine.py``), its simulator and Erlang C, and
the async shell that runs it in the controller (``dispatch.py``) and keeps its state in Redis
(``state_store.py``)."""
