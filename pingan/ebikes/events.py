"""Domain events of the e-bike register (sent on commit; receivers live in the reacting app)."""

from __future__ import annotations

from django.dispatch import Signal

ebike_registered = Signal()  # sender=EBike; ebike, actor
ebike_stolen = Signal()  # sender=EBike; ebike, actor
transfer_requested = Signal()  # sender=EBike; transfer, actor (the new owner has something to confirm)
