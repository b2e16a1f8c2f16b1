"""The resident ID-card reader of a self-service kiosk (智慧警局), behind an interface so
that a real reader's driver replaces the simulation without touching the kiosk's views.

A reader answers one question: whose card is on the reader now? ``read()`` gives the
card's data, or ``None`` when there is no readable card. Reading a card is not proof of
identity — it proves someone holds a card — so the kiosk still sends a one-time code to
the mobile on the card holder's real-name record (``pingan.eservices.kiosk``).

The reader is chosen by ``settings.KIOSK_CARD_READER`` (a dotted path to a class; default
:class:`SimulatedCardReader`). The kiosk builds one per identification attempt::

    reader = cardreader.get_reader(typed=request.POST.get("id_number", ""), kiosk="370102001-01")
    card = reader.read()        # CardData | None

A real driver is a class with the same constructor and ``read()``: it ignores ``typed``
and asks the kiosk's reader (for instance through the reader agent the kiosk code
addresses) for the chip's data. See ``docs/kiosk.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from django.conf import settings
from django.utils.module_loading import import_string

DEFAULT_READER = "pingan.eservices.cardreader.SimulatedCardReader"


@dataclass(frozen=True)
class CardData:
    """What a reader gives: the ID number (not yet validated: the kiosk checks it) and,
    from a chip, the holder's name. ``source`` says where it came from (timeline)."""

    id_number: str
    name: str = ""
    source: str = "typed"

    def __repr__(self) -> str:  # never an ID number in logs or tracebacks
        return f"CardData(source={self.source!r})"


@runtime_checkable
class CardReader(Protocol):
    def read(self) -> CardData | None: ...


class SimulatedCardReader:
    """Demo and development: the "card" is the number typed on the screen."""

    source = "typed"

    def __init__(self, *, typed: str = "", kiosk: str = "") -> None:
        self.typed = typed or ""
        self.kiosk = kiosk

    def read(self) -> CardData | None:
        number = "".join(self.typed.split()).upper()[:40]
        if not number:
            return None
        return CardData(id_number=number, source=self.source)


def get_reader(*, typed: str = "", kiosk: str = "") -> CardReader:
    """A reader of the configured class for one identification attempt at ``kiosk``."""
    path = getattr(settings, "KIOSK_CARD_READER", "") or DEFAULT_READER
    reader = import_string(path)(typed=typed, kiosk=kiosk)
    if not isinstance(reader, CardReader):
        raise TypeError(f"{path} is not a CardReader (it needs a read() method)")
    return reader
