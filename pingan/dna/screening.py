"""Searching the whole database at once, and turning hits into candidates.

The database has two sides (docs/dna.md, "Search strategy"):

- **persons**: the ``self`` profiles of found persons and of adults seeking their birth
  family — the people whose family is sought;
- **families**: the relatives' profiles of missing-person records, kept in three in-memory
  matrices by what they can say about a person: ``lineal`` (father, mother, child: the duo
  mode), ``siblings`` (full siblings) and ``second`` (half siblings, grandparents, uncles and
  aunts).

A new **person** profile is searched against each family matrix at once (the engine's
``search`` over a ``ProfileMatrix``): duo against the lineal relatives (with a low floor, so
the same scan pre-screens trios), sibling and second-degree against theirs. Every family
whose parents are both typed and one of whose parents passed the floor gets the exact trio
likelihood ratio from ``kinship()``.

A new **relative** profile searches its family against the persons: trio with
``[mother, father]`` when both parents are typed, and the relative's own mode.

Each pair hit is then evaluated whole (:func:`evaluate_pair`): the trio when both parents
are typed, otherwise the strongest single relative. Pairs at or above the mode's threshold
become candidates (or update the candidate they are); an excluded pair is never touched
again. The posterior of each candidate combines the DNA likelihood ratio with the
attribute Bayes factor under an explicit prior (``catalog/dna.yaml``).
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from pingan.core import timeline, workflow
from pingan.dna import kinship as engine
from pingan.dna import records
from pingan.dna.config import config
from pingan.dna.models import (
    PARENT_ROLES,
    SECOND_DEGREE_ROLES,
    SIBLING_ROLES,
    Candidate,
    Profile,
    RecordKind,
    Role,
    SearchKind,
    SearchLog,
    new_code,
)

log = logging.getLogger(__name__)

PERSONS, LINEAL, SIBLINGS, SECOND = "persons", "lineal", "siblings", "second"
LINEAL_ROLES = (Role.FATHER, Role.MOTHER, Role.CHILD)
OPEN_STATES = ("open", "retest_ordered", "relative_requested")
# Above this a combined LR is shown as 10^x; float stays finite far beyond any real case.
_MAX_LOG10 = 300.0


def table() -> engine.FrequencyTable:
    """The frequency table in force (``catalog/dna.yaml``: ``frequencies``)."""
    current = engine.default_table()
    wanted = config().frequencies
    if current.name != wanted:
        raise LookupError(f"catalog/dna.yaml names the frequency table {wanted!r}; the engine ships {current.name!r}")
    return current


def kinship_settings() -> engine.KinshipSettings:
    return engine.KinshipSettings(**config().kinship)


def side_q(side: str) -> Q:
    live = Q(deleted_at__isnull=True, retest_of__isnull=True)
    if side == PERSONS:
        return live & Q(role=Role.SELF, record_kind__in=[RecordKind.FOUND, RecordKind.SEEKER])
    roles = {LINEAL: LINEAL_ROLES, SIBLINGS: SIBLING_ROLES, SECOND: SECOND_DEGREE_ROLES}[side]
    return live & Q(role__in=list(roles), record_kind=RecordKind.MISSING)


def side_of(profile: Profile) -> str | None:
    if profile.deleted_at is not None or profile.retest_of_id is not None:
        return None
    for side in (PERSONS, LINEAL, SIBLINGS, SECOND):
        if Profile.objects.filter(side_q(side), pk=profile.pk).exists():
            return side
    return None


def genotype_of(profile: Profile) -> engine.Profile:
    """The engine's profile of a stored one (the stored JSON was validated on entry)."""
    return engine.Profile(profile.alleles())


# --- The in-memory matrices ---------------------------------------------------------------


@dataclass
class _Cached:
    generation: tuple[Any, ...]
    matrix: Any


_cache: dict[tuple[str, str], _Cached] = {}
_cache_lock = threading.Lock()


def _generation(side: str) -> tuple[Any, ...]:
    """What identifies the side's contents without reading the genotypes: rows, the newest
    id and entry, and the newest deletion (a tombstone leaves the side)."""
    live = Profile.objects.filter(side_q(side)).aggregate(n=Count("id"), top=Max("id"), newest=Max("created_at"))
    gone = Profile.objects.filter(deleted_at__isnull=False).aggregate(last=Max("deleted_at"), n=Count("id"))
    return (live["n"], live["top"], live["newest"], gone["last"], gone["n"])


def matrix(side: str) -> Any:
    """The side's ``ProfileMatrix`` (keys: profile ids), rebuilt when the side changed."""
    freq = table()
    generation = _generation(side)
    key = (side, freq.name)
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None and cached.generation == generation:
            return cached.matrix
    rows = (
        (pk, engine.Profile(json.loads(genotype)))
        for pk, genotype in Profile.objects.filter(side_q(side)).order_by("id").values_list("id", "genotype").iterator()
        if genotype
    )
    built = engine.ProfileMatrix.build(rows, freq)
    with _cache_lock:
        _cache[key] = _Cached(generation, built)
    return built


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


# --- Families ------------------------------------------------------------------------------


@dataclass
class Family:
    """The live, searchable relatives' profiles of one missing-person record."""

    reference: str
    profiles: list[Profile] = field(default_factory=list)

    def latest(self, role: str) -> Profile | None:
        chosen = [p for p in self.profiles if p.role == role]
        return max(chosen, key=lambda p: p.pk) if chosen else None

    @property
    def parents(self) -> tuple[Profile, Profile] | None:
        mother, father = self.latest(Role.MOTHER), self.latest(Role.FATHER)
        return (mother, father) if mother is not None and father is not None else None


def family_q() -> Q:
    return side_q(LINEAL) | side_q(SIBLINGS) | side_q(SECOND)


def families(references: Iterable[str] | None = None) -> dict[str, Family]:
    query = Profile.objects.filter(family_q()).order_by("id")
    if references is not None:
        query = query.filter(record_reference__in=list(references))
    result: dict[str, Family] = {}
    for profile in query:
        result.setdefault(profile.record_reference, Family(profile.record_reference)).profiles.append(profile)
    return result


def family_count() -> int:
    return Profile.objects.filter(family_q()).values("record_reference").distinct().count()


def trio_family_count() -> int:
    rows = (
        Profile.objects.filter(side_q(LINEAL), role__in=list(PARENT_ROLES))
        .values("record_reference")
        .annotate(roles=Count("role", distinct=True))
        .filter(roles=2)
    )
    return rows.count()


# --- Evaluating one pair ------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    mode: str
    result: Any  # engine.KinshipResult
    family_profiles: tuple[Profile, ...]

    @property
    def log10_lr(self) -> float:
        return float(self.result.log10_lr)

    def passes(self) -> bool:
        return self.log10_lr >= math.log10(config().threshold(self.mode))


def _duo(relative: Profile, person: Profile, genotypes: dict[int, Any], **kw: Any) -> Any:
    if relative.role == Role.CHILD:  # the missing person's child: the person found is the parent
        return engine.kinship("duo", genotypes[person.pk], genotypes[relative.pk], **kw)
    return engine.kinship("duo", genotypes[relative.pk], genotypes[person.pk], **kw)


def evaluate_pair(family: Family, person: Profile) -> Evidence | None:
    """The evidence a family's typed relatives give about ``person``: the trio likelihood
    ratio when both parents are typed, otherwise the strongest single relative (the one
    furthest above its mode's threshold)."""
    kw = {"table": table(), "settings": kinship_settings()}
    genotypes = {p.pk: genotype_of(p) for p in [*family.profiles, person]}
    parents = family.parents
    if parents is not None:
        mother, father = parents
        result = engine.kinship("trio", genotypes[mother.pk], genotypes[father.pk], genotypes[person.pk], **kw)
        return Evidence("trio", result, (mother, father))
    options: list[Evidence] = []
    for relative in family.profiles:
        if relative.role in LINEAL_ROLES:
            options.append(Evidence("duo", _duo(relative, person, genotypes, **kw), (relative,)))
        elif relative.role in SIBLING_ROLES:
            result = engine.kinship("sibling", genotypes[relative.pk], genotypes[person.pk], **kw)
            options.append(Evidence("sibling", result, (relative,)))
        elif relative.role in SECOND_DEGREE_ROLES:
            result = engine.kinship("second-degree", genotypes[relative.pk], genotypes[person.pk], **kw)
            options.append(Evidence("second-degree", result, (relative,)))
    if not options:
        return None
    return max(options, key=lambda ev: ev.log10_lr - math.log10(config().threshold(ev.mode)))


# --- Candidates ---------------------------------------------------------------------------


@dataclass
class Outcome:
    created: list[Candidate] = field(default_factory=list)
    updated: list[Candidate] = field(default_factory=list)
    searches: int = 0

    def merge(self, other: Outcome) -> None:
        self.created += other.created
        self.updated += other.updated
        self.searches += other.searches

    @property
    def codes(self) -> list[str]:
        return [c.code for c in [*self.created, *self.updated]]


def _figures(evidence: Evidence, database_size: int) -> dict[str, Any]:
    threshold = config().threshold(evidence.mode)
    result = evidence.result
    return {
        "mode": evidence.mode,
        "log10_lr": min(float(result.log10_lr), _MAX_LOG10),
        "loci_lr": {marker: float(value) for marker, value in result.loci.items()},
        "inconsistent_loci": list(result.inconsistent_loci),
        "skipped_markers": list(result.skipped_markers),
        "likely_exclusion": bool(result.likely_exclusion),
        "frequencies": result.frequencies,
        "threshold_lr": threshold,
        "database_size": database_size,
        "expected_false_hits": float(engine.expected_false_hits(database_size, threshold)),
        "prior": config().prior_in_database,
    }


def _suggestions(missing: records.RecordInfo | None, family: Family) -> list[dict[str, Any]]:
    """Which relative would add most evidence (the engine's power analysis): the typed
    relatives with their profiles, the record's other relatives who can still give DNA as
    candidates (none named: the engine considers every kind not yet typed)."""
    known = set(engine_relations())
    available: dict[str, Any] = {}
    for relative in family.profiles:
        if relative.role in known:
            available.setdefault(relative.role, genotype_of(relative))
    if missing is not None:
        for relative in missing.relatives:
            if relative.relation in known and relative.can_give_dna and not relative.deceased:
                available.setdefault(relative.relation, None)
    ranked = engine.suggest_next_relative(available, table=table(), settings=kinship_settings())
    return [
        {
            "relation": s.relation,
            "expected_log10_lr": round(float(s.expected_log10_lr), 2),
            "gain": round(float(getattr(s, "gain", 0.0)), 2),
            "note": str(s.note),
        }
        for s in ranked
    ]


def engine_relations() -> tuple[str, ...]:
    return ("father", "mother", "full_sibling", "half_sibling", "grandparent", "uncle_aunt")


def upsert(
    family: Family,
    person: Profile,
    evidence: Evidence,
    *,
    database_size: int,
    actor: Any = None,
) -> tuple[Candidate | None, str]:
    """Create or update the candidate of (family, person). Returns (candidate, what) with
    ``what`` in created / updated / excluded (left alone) / below (not a candidate)."""
    found_reference = person.record_reference
    with transaction.atomic():
        existing = (
            Candidate.objects.select_for_update()
            .filter(missing_reference=family.reference, found_reference=found_reference)
            .first()
        )
        if existing is not None and existing.state not in OPEN_STATES:
            return existing, "final"  # excluded: never re-shown; confirmed: settled
        if existing is None and not evidence.passes():
            return None, "below"
        figures = _figures(evidence, database_size)
        now = timezone.now()
        if existing is None:
            missing = records.record_info(family.reference)
            found = records.record_info(found_reference)
            if missing is None or found is None:
                log.warning("DNA hit for unknown record %s / %s", family.reference, found_reference)
                return None, "below"
            attribute = records.attribute_evidence(missing, found)
            try:
                with transaction.atomic():
                    candidate = Candidate.objects.create(
                        code=new_code("K"),
                        missing_reference=family.reference,
                        found_reference=found_reference,
                        org=missing.org,
                        missing_org_path=missing.org_path,
                        found_org_path=found.org_path,
                        person_profile=person,
                        attribute_log10_bf=attribute.log10_bf,
                        attribute_reasons=list(attribute.reasons),
                        suggestions=_suggestions(missing, family),
                        screened_at=now,
                        **figures,
                    )
            except IntegrityError:  # another search created the pair meanwhile: update it
                return upsert(family, person, evidence, database_size=database_size, actor=actor)
            candidate.family_profiles.set(evidence.family_profiles)
            timeline.record(
                candidate,
                "dna.candidate_found",
                actor=actor,
                data={"mode": evidence.mode, "log10_lr": round(figures["log10_lr"], 3), "person": person.code},
            )
            return candidate, "created"
        before = set(existing.family_profiles.values_list("id", flat=True))
        for name, value in figures.items():
            setattr(existing, name, value)
        existing.person_profile = person
        existing.screened_at = now
        if before != {p.pk for p in evidence.family_profiles}:
            existing.suggestions = _suggestions(records.record_info(family.reference), family)
        existing.save()
        existing.family_profiles.set(evidence.family_profiles)
        if existing.state == "relative_requested" and before != {p.pk for p in evidence.family_profiles}:
            workflow.transition(existing, action="reopen", actor=None)
        return existing, "updated"


def refresh_posteriors(found_references: Iterable[str], *, database_families: int | None = None) -> None:
    """Recompute the posterior of every live candidate of each found record: the person's
    family is one of the ``N`` families in the database (prior ``prior_in_database``, each
    ``prior / N``) or none. A candidate's factor is its DNA likelihood ratio times the
    attribute Bayes factor; families without a candidate count with a factor of one."""
    prior = config().prior_in_database
    n = database_families if database_families is not None else family_count()
    for reference in set(found_references):
        with transaction.atomic():
            rows = list(
                Candidate.objects.select_for_update()
                .filter(found_reference=reference)
                .exclude(state="excluded")
                .order_by("id")
            )
            if not rows:
                continue
            factors = [min(c.log10_lr + (c.attribute_log10_bf or 0.0), _MAX_LOG10) for c in rows]
            values = posteriors(factors, n_families=max(n, len(rows)), prior=prior)
            for candidate, value in zip(rows, values, strict=True):
                if candidate.posterior != value or candidate.prior != prior:
                    candidate.posterior, candidate.prior = value, prior
                    candidate.save(update_fields=["posterior", "prior"])


def posteriors(log10_factors: Sequence[float], *, n_families: int, prior: float) -> list[float]:
    """The engine's database posterior (Slooten & Meester) over all ``n_families`` families
    searched: the candidates with their factors, every other family counted at a factor of
    one (an unrelated family's expected likelihood ratio)."""
    lrs = [10.0 ** min(f, _MAX_LOG10) for f in log10_factors]
    values = engine.posterior(lrs, prior_in_database=prior, n_database=max(n_families, len(lrs)))
    return [min(max(float(v), 0.0), 1.0) for v in values]


# --- Searches ------------------------------------------------------------------------------


def _log(
    *,
    kind: str,
    mode: str,
    query: Sequence[Profile],
    database_size: int,
    hits: int,
    codes: list[str],
    started: float,
    actor: Any,
    profile: Profile | None,
) -> SearchLog:
    threshold = config().threshold(mode)
    return SearchLog.objects.create(
        kind=kind,
        profile=profile,
        query_codes=[p.code for p in query],
        mode=mode,
        database_size=database_size,
        threshold_lr=threshold,
        expected_false_hits=float(engine.expected_false_hits(database_size, threshold)),
        hits=hits,
        candidate_codes=codes,
        frequencies=table().name,
        milliseconds=round((time.perf_counter() - started) * 1000, 2),
        actor=actor if getattr(actor, "pk", None) else None,
    )


def _search(side_matrix: Any, mode: str, query: Sequence[Profile], threshold: float, limit: int) -> list[Any]:
    return engine.search(
        side_matrix,
        mode,
        [genotype_of(p) for p in query],
        table=table(),
        settings=kinship_settings(),
        threshold_lr=threshold,
        limit=limit,
    )


def _apply(
    pairs: dict[tuple[str, int], int], fams: dict[str, Family], persons: dict[int, Profile], actor: Any
) -> tuple[Outcome, dict[str, list[str]]]:
    """Evaluate and upsert each (family reference, person id) pair; ``pairs`` maps the pair
    to the database size of the search that found it."""
    outcome = Outcome()
    by_mode: dict[str, list[str]] = defaultdict(list)
    for (reference, person_id), size in pairs.items():
        family, person = fams.get(reference), persons.get(person_id)
        if family is None or person is None:
            continue
        evidence = evaluate_pair(family, person)
        if evidence is None:
            continue
        candidate, what = upsert(family, person, evidence, database_size=size, actor=actor)
        if what == "created":
            outcome.created.append(candidate)  # type: ignore[arg-type]
        elif what == "updated":
            outcome.updated.append(candidate)  # type: ignore[arg-type]
        if candidate is not None and what in ("created", "updated"):
            by_mode[evidence.mode].append(candidate.code)
    return outcome, by_mode


def search_person(profile: Profile, *, actor: Any = None, kind: str = SearchKind.NEW_PROFILE) -> Outcome:
    """Search a found person's (or seeker's) profile against every family at once."""
    cfg, started = config(), time.perf_counter()
    pairs: dict[tuple[str, int], int] = {}
    sizes: dict[str, int] = {}
    hit_counts: dict[str, int] = defaultdict(int)
    lineal = matrix(LINEAL)
    sizes["duo"] = len(lineal)
    floor = min(cfg.trio_prescreen_lr, cfg.threshold("duo"))
    limit = max(cfg.trio_prescreen_limit, cfg.search_limit)
    lineal_hits = _search(lineal, "duo", [profile], floor, limit) if len(lineal) else []
    hit_ids = {hit.key for hit in lineal_hits}
    duo_ids = {hit.key for hit in lineal_hits if hit.log10_lr >= math.log10(cfg.threshold("duo"))}
    hit_counts["duo"] = len(duo_ids)
    others: dict[int, str] = {}
    for side, mode in ((SIBLINGS, "sibling"), (SECOND, "second-degree")):
        side_matrix = matrix(side)
        sizes[mode] = len(side_matrix)
        if not len(side_matrix):
            continue
        hits = _search(side_matrix, mode, [profile], cfg.threshold(mode), cfg.search_limit)
        hit_counts[mode] = len(hits)
        for hit in hits:
            others[hit.key] = mode
    references = dict(Profile.objects.filter(pk__in=hit_ids | set(others)).values_list("id", "record_reference"))
    fams = families(set(references.values()))
    sizes["trio"] = trio_family_count()
    for pk, reference in references.items():
        family = fams.get(reference)
        if family is None:
            continue
        if family.parents is not None:
            mode = "trio"
        elif pk in others:
            mode = others[pk]
        elif pk in duo_ids:
            mode = "duo"
        else:
            continue  # a parent under the duo threshold, in a family without both parents
        pairs[(reference, profile.pk)] = max(pairs.get((reference, profile.pk), 0), sizes[mode])
    outcome, by_mode = _apply(pairs, fams, {profile.pk: profile}, actor)
    outcome.searches = 1 + sum(1 for mode in ("sibling", "second-degree") if sizes[mode])
    for mode in ("trio", "duo", "sibling", "second-degree"):
        if not sizes.get(mode):
            continue
        _log(
            kind=kind,
            mode=mode,
            query=[profile],
            database_size=sizes[mode],
            hits=len(by_mode.get(mode, [])) if mode == "trio" else hit_counts[mode],
            codes=by_mode.get(mode, []),
            started=started,
            actor=actor,
            profile=profile if kind == SearchKind.NEW_PROFILE else None,
        )
    refresh_posteriors({profile.record_reference})
    return outcome


def search_family(
    family: Family, *, actor: Any = None, kind: str = SearchKind.NEW_PROFILE, trigger: Profile | None = None
) -> Outcome:
    """Search a missing person's family against every person at once: trio when both
    parents are typed, and each relative in its own mode (only ``trigger``'s mode when a
    single new relative profile started the search)."""
    cfg, started = config(), time.perf_counter()
    persons_matrix = matrix(PERSONS)
    size = len(persons_matrix)
    if not size:
        return Outcome()
    queries: list[tuple[str, list[Profile]]] = []
    parents = family.parents
    if parents is not None and (trigger is None or trigger.role in PARENT_ROLES):
        queries.append(("trio", list(parents)))
    for relative in family.profiles:
        if trigger is not None and relative.pk != trigger.pk:
            continue
        if relative.role in LINEAL_ROLES:
            queries.append(("duo", [relative]))
        elif relative.role in SIBLING_ROLES:
            queries.append(("sibling", [relative]))
        elif relative.role in SECOND_DEGREE_ROLES:
            queries.append(("second-degree", [relative]))
    pairs: dict[tuple[str, int], int] = {}
    found: list[tuple[str, list[Profile], list[int]]] = []
    for mode, query in queries:
        hits = _search(persons_matrix, mode, query, cfg.threshold(mode), cfg.search_limit)
        keys = [hit.key for hit in hits]
        found.append((mode, query, keys))
        for key in keys:
            pairs[(family.reference, key)] = size
    persons = {p.pk: p for p in Profile.objects.filter(pk__in={key for _r, key in pairs})}
    outcome, _by_mode = _apply(pairs, {family.reference: family}, persons, actor)
    outcome.searches = len(queries)
    for mode, query, keys in found:
        codes = [c.code for c in [*outcome.created, *outcome.updated] if c.person_profile_id in keys]
        _log(
            kind=kind,
            mode=mode,
            query=query,
            database_size=size,
            hits=len(keys),
            codes=codes,
            started=started,
            actor=actor,
            profile=trigger if kind == SearchKind.NEW_PROFILE else None,
        )
    refresh_posteriors({persons[key].record_reference for _r, key in pairs if key in persons})
    return outcome


def search_new_profile(profile: Profile, *, actor: Any = None) -> Outcome:
    """What happens when a new profile is committed: search it against the whole database."""
    profile.refresh_from_db()
    side = side_of(profile)
    if side == PERSONS:
        return search_person(profile, actor=actor)
    if side in (LINEAL, SIBLINGS, SECOND):
        family = families([profile.record_reference]).get(profile.record_reference)
        if family is not None:
            return search_family(family, actor=actor, trigger=profile)
    return Outcome()


def rescreen_all(*, actor: Any = None) -> Outcome:
    """Search every family against every person with the current frequency table, and
    re-evaluate every open candidate (its figures change with the table)."""
    outcome = Outcome()
    for family in families().values():
        outcome.merge(search_family(family, actor=actor, kind=SearchKind.RESCREEN))
    seen = {c.pk for c in [*outcome.created, *outcome.updated]}
    stale = Candidate.objects.filter(state__in=OPEN_STATES).exclude(pk__in=seen).select_related("person_profile")
    size = len(matrix(PERSONS))
    touched: set[str] = set()
    for candidate in stale:
        family = families([candidate.missing_reference]).get(candidate.missing_reference)
        person = candidate.person_profile
        if family is None or person.deleted_at is not None:
            continue
        evidence = evaluate_pair(family, person)
        if evidence is None:
            continue
        updated, what = upsert(family, person, evidence, database_size=size, actor=actor)
        if what == "updated" and updated is not None:
            outcome.updated.append(updated)
            touched.add(updated.found_reference)
    refresh_posteriors(touched)
    return outcome
