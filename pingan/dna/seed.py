"""Seed steps of the DNA store (after the 团圆 records: ``reunion.records`` is order 80).

- ``dna.points`` (order 90): a free sampling point at every police station of the tree and
  one designated hospital per county.
- ``dna.profiles`` (order 92): consents, samples and STR profiles simulated from the shipped
  frequency table (``kinship.simulate``) for the planted cases of ``pingan.reunion.demo``:
  the true parents (and a full sibling where named) of each planted missing child and the
  child as found; an unrelated profile for each look-alike; and the background records'
  people (found persons and seekers themselves, missing persons' parents). Then every
  family is searched against every person, and last the story's seeker is typed — the
  boy taken in Liaocheng in 1997, typed on a 40-locus kit like his parents — so his
  profile's search at once puts the trio candidate on top of the review queue.

Profiles are deterministic: each person's genotype comes from a simulator seeded by the
seed, the record and the role. Re-runs add only what is missing (natural key: a live
consent for the record, relation and relative)."""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from pingan.core import context, seeding
from pingan.core.seeding import SeedContext
from pingan.dna import actions, records, screening
from pingan.dna import kinship as engine
from pingan.dna.kinship.frequencies import DEFAULT_SEARCH_MARKERS
from pingan.dna.kinship.simulate import PedigreeSimulator
from pingan.dna.models import Candidate, Consent, PointKind, Profile, SamplingPoint
from pingan.orgs.models import Kind as OrgKind
from pingan.orgs.models import Level, OrgUnit

LAB = "山东省公安厅物证鉴定研究中心"
EXAMINER_BADGE = "370003"
# How far past the last background reference to look before stopping (references skip).
_MISSES = 60


def _seed_int(ctx: SeedContext, *parts: object) -> int:
    material = "\x1f".join([str(ctx.seed), "dna", *(str(p) for p in parts)])
    return int.from_bytes(hashlib.sha256(material.encode()).digest()[:8], "big")


# --- Sampling points --------------------------------------------------------------------------


def seed_points(ctx: SeedContext) -> dict[str, Any]:
    existing = set(SamplingPoint.objects.values_list("code", flat=True))
    new: list[SamplingPoint] = []
    stations = OrgUnit.objects.filter(kind=OrgKind.STATION, is_active=True).select_related("parent")
    for station in stations.order_by("path"):
        code = f"PS{station.code}"
        if code in existing:
            continue
        county = station.parent.name if station.parent else ""
        new.append(
            SamplingPoint(
                code=code,
                name=station.name,
                kind=PointKind.STATION,
                address=f"{county}{station.name}户籍窗口",
                hours="工作日 9:00–12:00，14:00–17:00",
                phone="110",
                latitude=station.latitude,
                longitude=station.longitude,
                org=station,
                division_code=station.division_code[:6],
            )
        )
    counties = OrgUnit.objects.filter(level=Level.COUNTY, kind__in=(OrgKind.BUREAU, OrgKind.BRANCH), is_active=True)
    for county in counties.order_by("path"):
        code = f"PH{county.code}"
        if code in existing:
            continue
        rng = ctx.rng("hospital", county.code)
        short = county.name.removesuffix("公安分局").removesuffix("公安局")
        new.append(
            SamplingPoint(
                code=code,
                name=f"{short}人民医院",
                kind=PointKind.HOSPITAL,
                address=f"{short}人民医院门诊楼一层采血室",
                hours="每日 8:00–11:30",
                phone="",
                latitude=round(county.latitude + rng.uniform(-0.02, 0.02), 6),
                longitude=round(county.longitude + rng.uniform(-0.02, 0.02), 6),
                org=county,
                division_code=county.division_code[:6],
            )
        )
    SamplingPoint.objects.bulk_create(new, batch_size=500, ignore_conflicts=True)
    return {"created": {"sampling_points": len(new)}}


# --- Profiles ---------------------------------------------------------------------------------


class Loader:
    """Types people of the demo records through the real actions (consent → sample → lab →
    profile), as the province's examiner; skips anyone already typed."""

    def __init__(self, ctx: SeedContext, examiner: Any) -> None:
        self.ctx = ctx
        self.examiner = examiner
        self.table = screening.table()
        self.created = 0
        self._points: dict[str, SamplingPoint | None] = {}

    def point_for(self, info: records.RecordInfo) -> SamplingPoint | None:
        path = info.org_path
        if path not in self._points:
            point = None
            for code in reversed([c for c in path.split("/") if c]):
                point = SamplingPoint.objects.filter(org__code=code, is_active=True).order_by("kind", "code").first()
                if point is not None:
                    break
            self._points[path] = point or SamplingPoint.objects.filter(is_active=True).order_by("code").first()
        return self._points[path]

    def typed(self, reference: str, relation: str, relative_id: int | None) -> bool:
        return Consent.objects.filter(
            record_reference=reference,
            relation=relation,
            relative_id=relative_id,
            withdrawn_at__isnull=True,
            samples__profile__isnull=False,
        ).exists()

    def type(
        self,
        info: records.RecordInfo,
        relation: str,
        relative_id: int | None,
        genotype: engine.Profile,
        *,
        search: bool = False,
        keep: bool = False,
    ) -> Profile | None:
        if self.typed(info.reference, relation, relative_id):
            return None
        point = self.point_for(info)
        if point is None:
            return None
        with transaction.atomic():
            sample = actions.sample_register(
                record_reference=info.reference,
                relation=relation,
                relative_id=relative_id,
                point=point,
                actor=self.examiner,
                agreed=True,
                keep_after_reunion=keep,
                lab=LAB,
            )
            actions.sample_receive(sample=sample, actor=self.examiner)
            profile = actions.profile_enter(sample=sample, data=genotype.to_json(), actor=self.examiner, search=search)
        self.created += 1
        return profile


def _examiner() -> Any:
    return get_user_model().objects.filter(username=EXAMINER_BADGE, kind="staff", is_active=True).first()


def _simulator(ctx: SeedContext, markers: tuple[str, ...], *parts: object) -> PedigreeSimulator:
    return PedigreeSimulator(
        screening.table(), markers, seed=_seed_int(ctx, *parts), settings=screening.kinship_settings()
    )


def _one(sim: PedigreeSimulator, people: Any) -> engine.Profile:
    return sim.to_profiles(people)[0]


def _family_relatives(info: records.RecordInfo, relations: tuple[str, ...]) -> dict[str, int]:
    """relation → relative id of the first relative of that kind who can give DNA."""
    chosen: dict[str, int] = {}
    for relative in info.relatives:
        if relative.relation in relations and relative.can_give_dna and not relative.deceased:
            chosen.setdefault(relative.relation, relative.id)
    return chosen


def _type_family(
    loader: Loader, info: records.RecordInfo, relations: tuple[str, ...], people: dict[str, engine.Profile]
) -> None:
    for relation, relative_id in _family_relatives(info, relations).items():
        if relation in people:
            loader.type(info, relation, relative_id, people[relation], keep=relation == "mother")


def _pedigree(sim: PedigreeSimulator) -> dict[str, engine.Profile]:
    mother, father = sim.founders(1), sim.founders(1)
    return {
        "mother": _one(sim, mother),
        "father": _one(sim, father),
        "child": _one(sim, sim.child(mother, father)),
        "full_sibling": _one(sim, sim.child(mother, father)),
    }


def _background_references() -> list[str]:
    from pingan.reunion import demo

    found: list[str] = []
    misses, number = 0, demo.BACKGROUND_FROM
    while misses < _MISSES:
        reference = demo.reference(number)
        number += 1
        if records.record_info(reference) is None:
            misses += 1
            continue
        misses = 0
        found.append(reference)
    return found


def seed_profiles(ctx: SeedContext) -> dict[str, Any]:
    from pingan.reunion import demo

    examiner = _examiner()
    if examiner is None:
        ctx.write("dna: the demo DNA examiner (badge 370003) is missing; skipped")
        return {"created": {"profiles": 0}}
    loader = Loader(ctx, examiner)
    kit = tuple(DEFAULT_SEARCH_MARKERS)  # CODIS core + Penta D/E: the 打拐 database's 22 loci
    full_kit = tuple(loader.table.markers)  # a 2021 40-locus kinship kit
    pairs = demo.planted_pairs()
    story = next((p for p in pairs if p.missing_ref == demo.STORY_MISSING_REF), None)
    planted = [p for p in pairs if p is not story]
    with context.acting_as(examiner, channel="command"):
        # Background: the people of the other demo records, unrelated to anyone.
        skip = {ref for p in pairs for ref in (p.missing_ref, p.found_ref)} | {
            ref for pair in demo.lookalikes() for ref in pair
        }
        references = [ref for ref in _background_references() if ref not in skip]
        for reference in ctx.progress(references, desc="dna background", unit="rec"):
            info = records.record_info(reference)
            if info is None or info.state != "active":
                continue
            sim = _simulator(ctx, kit, "background", reference)
            if info.kind == "missing":
                family = {"mother": _one(sim, sim.founders(1)), "father": _one(sim, sim.founders(1))}
                _type_family(loader, info, ("father", "mother"), family)
            else:
                loader.type(info, "self", None, _one(sim, sim.founders(1)))
        # Planted pairs: the family of each missing child, and the child found.
        for pair in ctx.progress(planted, desc="dna planted", unit="pair"):
            missing, found = records.record_info(pair.missing_ref), records.record_info(pair.found_ref)
            if missing is None or found is None:
                continue
            people = _pedigree(_simulator(ctx, kit, "planted", pair.missing_ref))
            _type_family(loader, missing, tuple(pair.relations), people)
            if found.state == "active":
                loader.type(found, "self", None, people["child"])
        # Look-alikes: similar on paper, unrelated in the DNA.
        for _missing_ref, lookalike_ref in demo.lookalikes():
            info = records.record_info(lookalike_ref)
            if info is not None and info.state == "active":
                sim = _simulator(ctx, kit, "lookalike", lookalike_ref)
                loader.type(info, "self", None, _one(sim, sim.founders(1)))
        # The story's parents, typed on the full kit when they gave blood years ago.
        story_people = None
        if story is not None:
            missing = records.record_info(story.missing_ref)
            if missing is not None:
                story_people = _pedigree(_simulator(ctx, full_kit, "story"))
                _type_family(loader, missing, tuple(story.relations), story_people)
        # Every family against every person, as the nightly re-screen does.
        outcome = screening.rescreen_all(actor=examiner)
        # Last, the seeker: his new profile is searched against the whole database at once.
        if story is not None and story_people is not None:
            seeker = records.record_info(story.found_ref)
            if seeker is not None and seeker.state == "active":
                loader.type(seeker, "self", None, story_people["child"], search=True)
    queue = Candidate.objects.filter(state__in=screening.OPEN_STATES).count()
    ctx.write(f"dna: {loader.created} profiles typed, {len(outcome.created)} candidates found, {queue} in review")
    return {"created": {"profiles": loader.created, "candidates": len(outcome.created)}, "in_review": queue}


def register_steps() -> None:
    seeding.register("dna.points", order=90, run=seed_points, description="free DNA sampling points")
    seeding.register(
        "dna.profiles",
        order=92,
        run=seed_profiles,
        description="DNA profiles for the planted cases and background, searched; the story on top",
    )
