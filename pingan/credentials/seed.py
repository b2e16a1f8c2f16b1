"""Seed step: the demo citizen 赵敏 (370102198806150242, 解放路派出所) holds an electronic
driving licence, a residence permit and a network ID (网证), so the wallet and the verifier
have something to show. Issued only if the citizen and the issuing units exist; a re-run
issues only what she does not hold yet."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pingan.accounts.models import CitizenProfile
from pingan.core.identity import blind_index
from pingan.core.seeding import SeedContext
from pingan.credentials import actions
from pingan.credentials.models import Credential
from pingan.orgs.models import OrgUnit

DEMO_ID_NUMBER = "370102198806150242"
# kind -> code of the issuing unit
ISSUERS = {
    "driving_licence": "3701-traffic",  # 济南市公安局交通警察支队
    "residence_permit": "370102001",  # 解放路派出所
    "network_id": "37-household",  # 山东省公安厅人口与户政管理总队
}


def _claims(kind: str, holder: Any, ctx: SeedContext) -> dict[str, str]:
    if kind == "network_id":
        return actions.network_id_claims(holder)
    base = actions.identity_claims(holder)
    rng = ctx.rng(kind)
    if kind == "driving_licence":
        first = dt.date(2008 + rng.randrange(8), 1 + rng.randrange(12), 1 + rng.randrange(28))
        return {
            **base,
            "vehicle_class": "C1",
            "first_issued": first.isoformat(),
            "file_number": f"3701{rng.randrange(10**8):08d}",
        }
    street = rng.choice(["解放路", "文化东路", "历山路", "和平路", "山大路"])
    number, unit, room = rng.randrange(1, 300), rng.randrange(1, 20), rng.randrange(101, 2602)
    return {
        **base,
        "address": f"山东省济南市历下区{street}{number}号{unit}单元{room}室",
        "residence_since": dt.date(2019 + rng.randrange(5), 1 + rng.randrange(12), 1 + rng.randrange(28)).isoformat(),
    }


def seed_credentials(ctx: SeedContext) -> dict[str, Any]:
    profile = (
        CitizenProfile.objects.select_related("user")
        .filter(id_number_hash=blind_index(DEMO_ID_NUMBER, purpose="id_number"))
        .first()
    )
    if profile is None:
        ctx.write("credentials: the demo citizen 370102198806150242 is not seeded; skipped")
        return {"created": {"credentials": 0}}
    holder = profile.user
    units = {unit.code: unit for unit in OrgUnit.objects.filter(code__in=ISSUERS.values())}
    held = set(Credential.objects.filter(holder=holder).exclude(state="revoked").values_list("kind", flat=True))
    created = 0
    for kind, code in ISSUERS.items():
        if kind in held:
            continue
        org = units.get(code)
        if org is None:
            ctx.write(f"credentials: issuing unit {code} missing; {kind} skipped")
            continue
        actions.issue(
            kind=kind,
            holder=holder,
            claims=_claims(kind, holder, ctx),
            actor=None,
            org=org,
            source=("seed", f"demo-{kind}"),
        )
        created += 1
    return {"created": {"credentials": created}}


def register_steps() -> None:
    from pingan.core import seeding

    seeding.register(
        "credentials.demo",
        order=65,
        run=seed_credentials,
        description="the demo citizen's driving licence, residence permit and network ID",
        always=True,
    )
