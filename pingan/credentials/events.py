"""Domain events of credentials (sent on commit; receivers live in the reacting app)."""

from __future__ import annotations

from django.dispatch import Signal

credential_issued = Signal()  # sender=Credential; credential, actor
credential_status_changed = Signal()  # sender=Credential; credential, action, from_state, to_state, actor
