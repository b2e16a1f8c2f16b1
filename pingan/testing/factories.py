"""Test data builders shared by every app's tests (they go through the real actions)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence

from pingan.accounts import actions as accounts
from pingan.accounts.models import User
from pingan.core.identity import make_resident_id
from pingan.orgs.models import OrgUnit

PASSWORD = "correct-horse-battery-staple"
_badges = itertools.count(100000)
_citizens = itertools.count(1)


def org(code: str) -> OrgUnit:
    return OrgUnit.objects.get(code=code)


def staff(
    org_code: str = "370102001",
    roles: Sequence[str] = ("counter_officer",),
    *,
    name: str = "测试民警",
    password: str | None = PASSWORD,
    badge: str | None = None,
) -> User:
    """A staff member posted at ``org_code`` with ``roles``."""
    return accounts.staff_create(
        badge_number=badge or str(next(_badges)),
        name=name,
        home_org=org(org_code),
        roles=list(roles),
        password=password,
    )


def citizen(
    county_code: str = "370102",
    *,
    name: str = "张三",
    birth: dt.date = dt.date(1990, 5, 17),
    phone: str | None = None,
    password: str | None = PASSWORD,
    home_org_code: str | None = None,
) -> User:
    """A real-name citizen with a valid synthetic ID number from ``county_code``."""
    number = next(_citizens)
    return accounts.citizen_register(
        name=name,
        id_number=make_resident_id(county_code, birth, number),
        phone=phone or f"139{number:08d}",
        password=password,
        home_org=org(home_org_code) if home_org_code else None,
    )


def partner(
    org_code: str = "370102",
    *,
    organisation: str = "济南平安保安服务有限公司",
    partner_kind: str = "security_company",
    password: str | None = PASSWORD,
) -> User:
    number = next(_citizens)
    return accounts.partner_create(
        username=f"partner{number}",
        organisation=f"{organisation}{number}",
        partner_kind=partner_kind,
        credit_code=f"91370100MA{number:08d}",
        org=org(org_code),
        password=password,
    )
