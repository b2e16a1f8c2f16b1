from __future__ import annotations

import pytest

from pingan.accounts.seed import seed_demo_accounts
from pingan.core.identity import blind_index
from pingan.core.seeding import SeedContext
from pingan.ebikes import seed
from pingan.ebikes.models import CompliantModel, Dealer, EBike, ImportBatch
from pingan.testing import factories

pytestmark = pytest.mark.django_db


def test_the_seed_step_is_complete_and_idempotent(tmp_path):
    ctx = SeedContext(scale="small", seed=1, fraction=0.0, progress_enabled=False, writer=lambda _line: None)
    ctx.credentials_file = tmp_path / "demo-credentials.txt"
    seed_demo_accounts(ctx)
    for code in ("370102001", "370202001"):
        factories.citizen(code[:6], home_org_code=code)  # synthetic residents for the province-wide bicycles
    CompliantModel.objects.all().delete()  # the suite's fixture loaded it; the seed must do it alone
    first = seed.seed_ebikes(ctx)
    assert first["created"]["compliant products"] == CompliantModel.objects.count() == 43
    dealer = Dealer.objects.select_related("partner").get(partner__username=seed.DEMO_DEALER_USERNAME)
    assert dealer.city.code == "3701"
    assert dealer.is_active
    assert dealer.partner.has_usable_password()
    mine = EBike.objects.filter(buyer_id_hash=blind_index(seed.DEMO_CITIZEN_ID, purpose="id_number"))
    assert sorted(mine.values_list("state", flat=True)) == ["pre_registered", "registered", "registered"]
    assert all(bike.owner is not None for bike in mine)
    assert mine.filter(dealer=dealer).count() == 2
    assert ImportBatch.objects.filter(dealer=dealer).count() == 1
    synthetic = EBike.objects.exclude(pk__in=mine).filter(state="registered")
    assert synthetic.count() == first["created"]["e-bikes"] >= 2
    assert {bike.city.code for bike in synthetic} >= {"3701", "3702"}
    assert all(bike.registered_at.year < 2026 for bike in synthetic)  # back-dated history

    count = EBike.objects.count()
    again = seed.seed_ebikes(ctx)
    assert again["created"] == {"compliant products": 0, "demo e-bikes": 0, "e-bikes": 0}
    assert EBike.objects.count() == count
