"""A test-only app: a concrete workflow item (``Ticket``) for the engine's own tests.

Installed only when testing (``settings.TESTING``); ships its workflow in ``workflows/``.
"""
