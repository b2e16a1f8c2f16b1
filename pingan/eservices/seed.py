"""Seed step: applications with a history, so the workbench, "my applications", ratings and
credentials have something in them: the demo citizens' own applications in every state, and
at the first station of each city a queue of synthetic citizens' applications — some
waiting, some in 补正, some finished, a few near or past their deadline (back-dated)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from pingan.accounts import queries as accounts_queries
from pingan.accounts.models import Post, User
from pingan.core import context, deadlines, seeding, workflow
from pingan.core.seeding import SeedContext
from pingan.eservices import actions, catalog, samples
from pingan.eservices.models import Application
from pingan.orgs.models import OrgUnit

DEMO_STATIONS = ("370102001", "370202001")
PER_STATION = {"small": 16, "city": 40, "province": 60}
# Where an application stops, and how often (weights).
STOPS = [("submitted", 4), ("under_review", 3), ("supplement", 2), ("approved", 1), ("completed", 4), ("refused", 1)]


def _counter_officer(station: OrgUnit) -> User | None:
    post = (
        Post.objects.filter(org=station, role__in=("counter_officer", "station_chief"), is_active=True)
        .select_related("user")
        .order_by("role", "user__username")
        .first()
    )
    return post.user if post else None


def _chief(station: OrgUnit) -> User | None:
    post = Post.objects.filter(org=station, role="station_chief", is_active=True).select_related("user").first()
    return post.user if post else None


def _candidates() -> list[catalog.ServiceDefinition]:
    return [
        s
        for s in sorted(catalog.services().values(), key=lambda s: s.code)
        if s.handled_at == "station"
        and s.handler is None
        and ("online" in s.channels or "app" in s.channels)
        and samples.fillable(s)
    ]


def _documents(application: Application, actor: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    for spec in application.service.documents:
        if spec.required:
            upload = SimpleUploadedFile(*samples.document_for(spec))
            actions.document_add(application=application, actor=actor, code=spec.code, upload=upload)


def _walk(application: Application, *, stop: str, officer: User, chief: User | None, start: dt.datetime) -> None:
    """Take ``application`` from submitted towards ``stop``, a few hours apart, back-dated."""
    moment = start
    for _round in range(8):
        if application.state == stop or application.finished:
            return
        wanted = {
            "under_review": ["accept"],
            "supplement": ["accept", "request_supplement"],
            "approved": ["accept", "propose", "inspect", "approve"],
            "completed": ["accept", "propose", "inspect", "approve", "issue", "collect", "complete"],
            "refused": ["accept", "refuse"],
        }.get(stop, [])
        taken = False
        for actor in (officer, chief):
            if actor is None:
                continue
            available = {t.action for t in workflow.available_actions(application, actor)}
            action = next((a for a in wanted if a in available), None)
            if action is None:
                continue
            data = {
                "request_supplement": {"items": "请补充提交清晰的材料扫描件"},
                "refuse": {"reason": "申请人不符合办理条件"},
                "propose": {"opinion": "材料齐全，建议批准"},
                "inspect": {"result": "合格"},
                "issue": {"delivery": "网上告知"},
            }.get(action)
            with context.backdated(moment), context.acting_as(actor, channel="counter"):
                actions.advance(application=application, action=action, actor=actor, data=data, channel="counter")
            moment += dt.timedelta(hours=5)
            taken = True
            break
        if not taken:
            return


def _apply(applicant: User, service: catalog.ServiceDefinition, *, org: OrgUnit, start: dt.datetime) -> Application:
    with context.backdated(start), context.acting_as(applicant, channel="web"):
        application = actions.draft_create(
            actor=applicant, service_code=service.code, org=org, form_data=samples.answers(service.form)
        )
        _documents(application, applicant)
        actions.submit(application=application, actor=applicant)
    return application


@transaction.atomic  # all or nothing: a failed seed leaves no half-made history
def seed_applications(ctx: SeedContext) -> dict[str, Any]:
    if Application.objects.exists():
        return {"created": {"applications": 0}}
    services = _candidates()
    if not services:
        ctx.write("eservices: no online station services in the catalogue; skipped")
        return {"created": {"applications": 0}}
    rng = ctx.rng("applications")
    now = timezone.now()
    stops, weights = zip(*STOPS, strict=True)
    cities = OrgUnit.objects.filter(depth=1, kind="bureau").order_by("code")
    stations = [OrgUnit.objects.filter(code=code).first() for code in DEMO_STATIONS]
    for city in cities:
        station = (
            OrgUnit.objects.filter(path__under=city.path, level="station", posts__role="counter_officer")
            .order_by("code")
            .first()
        )
        if station is not None and station not in stations:
            stations.append(station)
    created = 0
    per_station = PER_STATION.get(ctx.scale, 24)
    with ctx.progress(total=per_station * len(stations), desc="applications", unit="app") as bar:
        for station in [s for s in stations if s is not None]:
            officer, chief = _counter_officer(station), _chief(station)
            county = station.parent
            people = list(
                User.objects.filter(citizen__home_org__path__under=county.path if county else station.path).order_by(
                    "pk"
                )[: per_station * 2]
            )
            if officer is None or not people:
                bar.update(per_station)
                continue
            count = per_station if station.code in DEMO_STATIONS else per_station // 4
            for number in range(count):
                service = services[rng.randrange(len(services))]
                applicant = people[number % len(people)]
                start = now - dt.timedelta(days=rng.randint(0, 25), hours=rng.randint(1, 9))
                application = _apply(applicant, service, org=actions.handling_unit(service, station), start=start)
                _walk(
                    application,
                    stop=rng.choices(stops, weights)[0],
                    officer=officer,
                    chief=chief,
                    start=start + dt.timedelta(hours=2),
                )
                created += 1
                bar.update(1)
    created += _demo_citizens(services, now)
    swept = deadlines.sweep()
    return {"created": {"applications": created}, "overdue": swept.overdue, "warnings": swept.warned}


def _demo_citizens(services: list[catalog.ServiceDefinition], now: dt.datetime) -> int:
    """The documented demo citizens get one application in each interesting state."""
    from pingan.accounts.seed import DEMO_CITIZENS

    created = 0
    for demo in DEMO_CITIZENS:
        account = accounts_queries.citizen_account_for_id_number(demo.id_number)
        if account is None:
            continue
        profile = account.citizen
        station = profile.home_org
        officer, chief = _counter_officer(station), _chief(station)
        if officer is None:
            continue
        plan = [("completed", 12), ("supplement", 4), ("submitted", 1)]
        for index, (stop, days_ago) in enumerate(plan):
            service = services[(index * 7 + len(demo.id_number)) % len(services)]
            start = now - dt.timedelta(days=days_ago, hours=3)
            application = _apply(profile.user, service, org=actions.handling_unit(service, station), start=start)
            _walk(application, stop=stop, officer=officer, chief=chief, start=start + dt.timedelta(hours=1))
            created += 1
        with context.acting_as(profile.user, channel="web"):
            draft_service = services[len(services) // 2]
            actions.draft_create(
                actor=profile.user,
                service_code=draft_service.code,
                org=actions.handling_unit(draft_service, station),
                form_data=samples.answers(draft_service.form, only_required=True),
            )
        created += 1
    return created


def register_steps() -> None:
    seeding.register(
        "eservices.applications",
        order=70,
        run=seed_applications,
        description="S9–S14 applications with a history at the demo stations and one station per city",
    )
