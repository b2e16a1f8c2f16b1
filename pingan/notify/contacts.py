"""Where a message goes: the recipient's mobile number, read from the citizen profile
(encrypted at rest) at send time only, and each read recorded on the citizen's timeline.

Not scoped by a user: the system routes a message to its own recipient, never shows the
number to anyone. Only the phone column is loaded (and so decrypted), never the ID number.
"""

from __future__ import annotations

from dataclasses import dataclass

from pingan.accounts.models import CitizenProfile
from pingan.core import timeline


@dataclass(frozen=True)
class Mobile:
    profile_id: int
    phone: str
    org_path: str

    def __repr__(self) -> str:  # never put the number in logs or tracebacks
        return f"Mobile(profile_id={self.profile_id})"


def mobile_of(user_id: int) -> Mobile | None:
    row = CitizenProfile.objects.filter(user_id=user_id).values_list("pk", "phone", "home_org__path").first()
    if row is None or not row[1]:
        return None
    return Mobile(profile_id=row[0], phone=row[1], org_path=row[2] or "")


def record_phone_read(mobile: Mobile, *, message_id: int) -> None:
    timeline.record_read(
        ("accounts.citizenprofile", mobile.profile_id),
        fields=["phone"],
        purpose="notify.sms",
        org_path=mobile.org_path,
        message=message_id,
    )
