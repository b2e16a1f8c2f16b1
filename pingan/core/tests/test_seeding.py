from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from hypothesis import given
from hypothesis import strategies as st

from pingan.core import registry, seeding
from pingan.core.identity import normalize_mobile, parse_resident_id
from pingan.core.models import SeedRun


def context(**kwargs: Any) -> seeding.SeedContext:
    values: dict[str, Any] = {"scale": "small", "seed": 1, "fraction": 0.0, "step": "test", "progress_enabled": False}
    return seeding.SeedContext(**{**values, **kwargs})


# --- Random streams ------------------------------------------------------------------------


def test_rng_is_the_same_for_the_same_seed_step_and_salt():
    first = [context().rng("x").random() for _ in range(3)]
    again = [context().rng("x").random() for _ in range(3)]
    assert first == again


def test_rng_differs_by_seed_step_and_salt():
    base = context().rng("x").random()
    assert context(seed=2).rng("x").random() != base
    assert context(step="other").rng("x").random() != base
    assert context().rng("y").random() != base


def test_streams_do_not_perturb_each_other():
    ctx = context()
    alone = ctx.rng("b").random()
    ctx.rng("a").random()  # another stream drawn from first
    assert ctx.rng("b").random() == alone


# --- Synthetic people ----------------------------------------------------------------------


@given(seed=st.integers(min_value=0, max_value=2**32), sex=st.sampled_from(["M", "F"]))
def test_resident_ids_are_valid_and_carry_birth_and_sex(seed, sex):
    rng = context(seed=seed).rng()
    born = seeding.birth_date(rng)
    number = seeding.resident_id(rng, county_code="370102", born=born, sex=sex)
    parsed = parse_resident_id(number, today=seeding.REFERENCE_DAY)
    assert (parsed.county_code, parsed.birth_date, parsed.sex) == ("370102", born, sex)
    assert 18 <= parsed.age_on(seeding.REFERENCE_DAY) <= 85


@given(seed=st.integers(min_value=0, max_value=2**32), partition=st.integers(min_value=0, max_value=15))
def test_mobiles_are_valid_and_stay_in_their_partition(seed, partition):
    number = seeding.mobile(context(seed=seed).rng(), partition=partition, partitions=16)
    assert normalize_mobile(number) == number
    assert number[:3] in seeding.MOBILE_PREFIXES
    assert int(number[3:7]) % 16 == partition


def test_every_mobile_prefix_is_a_real_mobile_range():
    for prefix in seeding.MOBILE_PREFIXES:
        assert normalize_mobile(f"{prefix}12345678") == f"{prefix}12345678"


def test_names_are_a_common_surname_and_one_or_two_given_characters():
    rng = context().rng()
    names = [seeding.person_name(rng, sex) for sex in ["M", "F"] * 200]
    assert all(name[0] in seeding.SURNAMES and 2 <= len(name) <= 3 for name in names)
    assert all(re.fullmatch(r"[\u4e00-\u9fff]+", name) for name in names)
    assert len(set(names)) > 300  # varied, not a handful repeated


# --- Arguments -------------------------------------------------------------------------------


def test_fraction_defaults_and_limits():
    assert seeding.effective_fraction("small", None) == 0.0
    assert seeding.effective_fraction("city", None) == seeding.DEFAULT_FRACTION["city"]
    assert seeding.effective_fraction("province", 0.5) == 0.5


@pytest.mark.parametrize(
    ("scale", "fraction", "message"),
    [
        ("county", None, "unknown scale"),
        ("small", 0.01, "city and province"),
        ("province", 0.0, "fraction must be"),
        ("province", 1.5, "fraction must be"),
        ("city", -0.1, "fraction must be"),
    ],
)
def test_bad_arguments_are_refused(scale, fraction, message):
    with pytest.raises(seeding.SeedError, match=message):
        seeding.effective_fraction(scale, fraction)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scale", "county"], "invalid choice"),
        (["--scale", "small", "--fraction", "0.1"], "city and province"),
        (["--scale", "province", "--fraction", "2"], "fraction must be"),
        (["--scale", "small", "--only", "nonsense.*"], "no seed step matches nonsense"),
    ],
)
def test_command_refuses_bad_arguments(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("seed", *args, "--no-progress")
    assert not SeedRun.objects.exists()


# --- Running steps ---------------------------------------------------------------------------


class Recorder:
    """Test steps that record what they saw."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.seen_shared: dict[str, Any] = {}

    def first(self, ctx: seeding.SeedContext) -> dict[str, Any]:
        self.calls.append("first")
        return {"created": {"things": 2}, "token": ctx.rng().randrange(10**9)}

    def second(self, ctx: seeding.SeedContext) -> dict[str, Any]:
        self.calls.append("second")
        self.seen_shared = dict(ctx.shared)
        return {"created": 0}

    def steps(self, **extra: Any) -> list[seeding.SeedStep]:
        # Declared out of order: the runner sorts by order.
        return [
            seeding.SeedStep(name="test.second", order=20, run=self.second, **extra),
            seeding.SeedStep(name="test.first", order=10, run=self.first),
        ]


@pytest.mark.django_db
def test_steps_run_in_order_and_hand_results_on(tmp_path):
    recorder = Recorder()
    lines: list[str] = []
    outcomes = seeding.run(
        scale="small", seed=3, steps=recorder.steps(), progress=False, writer=lines.append, credentials_file=tmp_path
    )
    assert recorder.calls == ["first", "second"]
    assert [o.step for o in outcomes] == ["test.first", "test.second"]
    assert recorder.seen_shared["test.first"]["created"] == {"things": 2}
    assert "test.first: things +2" in lines[0]
    run = SeedRun.objects.get(step="test.first")
    assert (run.scale, run.seed, run.fraction, run.result["created"]) == ("small", 3, 0.0, {"things": 2})


@pytest.mark.django_db
def test_a_recorded_step_is_skipped_and_its_result_restored():
    recorder = Recorder()
    seeding.run(scale="small", steps=recorder.steps(), progress=False, writer=lambda line: None)
    token = SeedRun.objects.get(step="test.first").result["token"]
    recorder.calls.clear()
    outcomes = seeding.run(scale="small", steps=recorder.steps(), progress=False, writer=lambda line: None)
    assert recorder.calls == []
    assert all(outcome.skipped for outcome in outcomes)
    assert outcomes[0].result["token"] == token
    assert SeedRun.objects.count() == 2


@pytest.mark.django_db
def test_recheck_and_always_steps_run_again():
    recorder = Recorder()
    seeding.run(scale="small", steps=recorder.steps(always=True), progress=False, writer=lambda line: None)
    recorder.calls.clear()
    seeding.run(scale="small", steps=recorder.steps(always=True), progress=False, writer=lambda line: None)
    assert recorder.calls == ["second"]
    recorder.calls.clear()
    seeding.run(scale="small", steps=recorder.steps(), progress=False, writer=lambda line: None, recheck=True)
    assert recorder.calls == ["first", "second"]
    assert SeedRun.objects.count() == 2


@pytest.mark.django_db
def test_only_runs_the_matching_steps():
    recorder = Recorder()
    seeding.run(scale="small", steps=recorder.steps(), progress=False, writer=lambda line: None, only=["*.second"])
    assert recorder.calls == ["second"]
    assert list(SeedRun.objects.values_list("step", flat=True)) == ["test.second"]


@pytest.mark.django_db
def test_another_scale_or_seed_runs_the_step():
    recorder = Recorder()
    seeding.run(scale="small", steps=recorder.steps(), progress=False, writer=lambda line: None)
    seeding.run(scale="province", fraction=0.001, steps=recorder.steps(), progress=False, writer=lambda line: None)
    seeding.run(scale="small", seed=2, steps=recorder.steps(), progress=False, writer=lambda line: None)
    assert recorder.calls == ["first", "second"] * 3
    assert SeedRun.objects.filter(step="test.first").count() == 3


@pytest.mark.django_db
def test_a_failing_step_is_not_recorded():
    def broken(ctx: seeding.SeedContext) -> None:
        raise RuntimeError("boom")

    steps = [Recorder().steps()[1], seeding.SeedStep(name="test.broken", order=20, run=broken)]
    with pytest.raises(RuntimeError, match="boom"):
        seeding.run(scale="small", steps=steps, progress=False, writer=lambda line: None)
    assert list(SeedRun.objects.values_list("step", flat=True)) == ["test.first"]


def test_registry_orders_steps_and_refuses_late_registration():
    with registry.seed_steps.unfrozen():
        seeding.register("test.late", order=5, run=lambda ctx: None)
        names = [step.name for step in seeding.registered_steps()]
        assert names[0] == "test.late"
        assert names[1:] == sorted(names[1:], key=lambda name: registry.seed_steps.get(name).order)
    assert "test.late" not in registry.seed_steps
    with pytest.raises(registry.RegistryFrozen):
        seeding.register("test.late", order=5, run=lambda ctx: None)


def test_apps_register_their_steps():
    assert {"orgs.tree", "accounts.demo", "accounts.staff", "accounts.citizens", "accounts.partners"} <= set(
        registry.seed_steps
    )
    orders = [step.order for step in seeding.registered_steps()]
    assert orders == sorted(orders)


def test_progress_bars_are_silent_when_disabled(capsys):
    ctx = context()
    assert list(ctx.progress(range(3), desc="quiet")) == [0, 1, 2]
    with ctx.progress(total=5) as bar:
        bar.update(5)
    assert capsys.readouterr().err == ""


def test_reference_day_makes_ages_independent_of_today():
    rng = context().rng()
    day = seeding.REFERENCE_DAY
    ages = [day.year - born.year - ((day.month, day.day) < (born.month, born.day)) for born in
            (seeding.birth_date(rng) for _ in range(2000))]  # fmt: skip
    assert min(ages) == 18
    assert max(ages) == 85
    assert sum(age < 60 for age in ages) > sum(age >= 60 for age in ages)
