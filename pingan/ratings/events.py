"""Domain events of ratings (sent on commit)."""

from django.dispatch import Signal

rating_given = Signal()  # sender=Rating; rating, subject (Rateable)
rectification_closed = Signal()  # sender=Rectification; rectification
