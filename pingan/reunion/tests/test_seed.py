"""The 团圆 seed: the story, planted pairs and look-alikes for the DNA seed, background
records across the province, reunions, teams, the demo alert — and a re-run adds nothing."""

from __future__ import annotations

import pytest

from pingan.accounts.seed import seed_demo_accounts
from pingan.alerts.models import Alert
from pingan.core.seeding import SeedContext
from pingan.reunion import demo, queries, seed
from pingan.reunion.models import PersonRecord, Reunion, SpecialistTeam
from pingan.testing import factories

pytestmark = pytest.mark.django_db


def test_the_seed_is_complete_and_idempotent(tmp_path):
    ctx = SeedContext(scale="small", seed=1, fraction=0.0, progress_enabled=False, writer=lambda _line: None)
    ctx.credentials_file = tmp_path / "demo-credentials.txt"
    seed_demo_accounts(ctx)
    factories.staff("37-criminal", ["investigator"], name="省厅侦查员")  # covers every county
    factories.staff("3701-criminal", ["investigator"], name="济南侦查员")
    for number in range(3):
        factories.citizen("371502", name=f"聊城市民{number}", home_org_code="371502001")

    first = seed.seed_records(ctx)
    assert first["story"] == [demo.STORY_MISSING_REF, demo.STORY_SEEKER_REF]

    # The story: a boy of four taken in 东昌府区 in 1997, reported by his father.
    boy = PersonRecord.objects.get(reference=demo.STORY_MISSING_REF)
    assert (boy.kind, boy.state, boy.sex, boy.event_date.year) == ("missing", "active", "M", 1997)
    assert boy.age_range_at_event() == (4, 4)
    assert boy.reporter_relation == "father"
    assert boy.org.code == "371502"
    assert boy.reported_at.year == 1997
    assert sorted(boy.relatives.values_list("relation", flat=True)) == ["father", "mother"]
    assert all(relative.phone_sealed for relative in boy.relatives.all())
    seeker = PersonRecord.objects.get(reference=demo.STORY_SEEKER_REF)
    assert (seeker.kind, seeker.state, seeker.org.code, seeker.division_code) == (
        "seeker",
        "active",
        "371502",
        "511302",
    )
    assert "四川省" in seeker.place_text
    assert seeker.reported_by.username == "371501"  # the Liaocheng investigator: a cross-province case
    assert seeker.birth_year_min <= 1993 <= seeker.birth_year_max

    # Planted pairs for the DNA seed, their relatives present as typed.
    pairs = demo.planted_pairs()
    assert pairs[0] == (demo.STORY_MISSING_REF, demo.STORY_SEEKER_REF, ("father", "mother"))
    assert len(pairs) == 1 + demo.PLANTED_COUNT["small"]
    for missing_ref, found_ref, relations in pairs:
        missing = PersonRecord.objects.get(reference=missing_ref)
        found = PersonRecord.objects.get(reference=found_ref)
        assert missing.kind == "missing"
        assert found.kind in ("found", "seeker")
        assert missing.sex == found.sex
        givers = sorted(missing.relatives.filter(can_give_dna=True).values_list("relation", flat=True))
        assert givers == sorted(relations)
    assert {"father", "mother", "full_sibling"} <= {relation for pair in pairs for relation in pair.relations}
    assert any(pair.relations == ("mother",) for pair in pairs)  # a duo case, the father deceased
    lookalikes = demo.lookalikes()
    assert len(lookalikes) == demo.PLANTED_COUNT["small"]
    for missing_ref, other_ref in lookalikes:
        missing, other = (PersonRecord.objects.get(reference=ref) for ref in (missing_ref, other_ref))
        assert other.kind == "found"
        assert other.sex == missing.sex
        assert abs(other.birth_year_min - missing.birth_year_min) <= 2

    # Background: a few hundred records across the province, reunions, waiting reports, teams.
    background = demo.background_refs()
    assert len(background) > 200
    assert not set(background) & {ref for pair in pairs for ref in pair[:2]}
    records = PersonRecord.objects.count()
    assert 250 <= records <= 400
    assert PersonRecord.objects.values("org_path").distinct().count() > 50
    assert {"missing", "found", "seeker"} <= set(PersonRecord.objects.values_list("kind", flat=True))
    assert Reunion.objects.count() == first["created"]["reunions"] > 10
    assert PersonRecord.objects.filter(state="reported", consent_at__isnull=False).exists()
    assert PersonRecord.objects.filter(close_code="found_by_family").exists()
    assert SpecialistTeam.objects.filter(org__code="37").exists()
    liaocheng = factories.org("371502")
    investigator = boy.reported_by
    cold = queries.cold_cases_for(user=investigator, county=liaocheng)
    assert demo.STORY_MISSING_REF in [case.record.reference for group in cold for case in group.cases]

    again = seed.seed_records(ctx)
    assert again["created"] == {"records": 0, "reunions": 0, "teams": 0}
    assert PersonRecord.objects.count() == records

    # The demo alert: a child missing in Jinan, published by the city's investigator.
    alert = seed.seed_alert(ctx)
    assert alert["created"] == {"alerts": 1}
    published = Alert.objects.get(subject_id=demo.ALERT_MISSING_REF)
    assert published.is_active
    assert published.org.path.startswith("37/3701/370102/")  # the 历下区 station nearest the square
    assert seed.seed_alert(ctx)["created"] == {"alerts": 0}
