"""The composition root: builds every capability on the kernel, serves them, and the ``hotline`` CLI."""
