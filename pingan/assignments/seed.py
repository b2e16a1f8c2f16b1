"""Seed step: the 2021 "doing practical things for the people" plan (S8: 4 areas, 20 key
tasks) issued by the province, handed down to city bureaus and stations, with a history:
tasks started days or weeks ago (back-dated), some answered, reported, approved — and some
overdue, so officers' "my work" and the chiefs' escalations have something in them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from pingan.accounts.models import Post, User
from pingan.assignments import actions
from pingan.assignments.models import Assignment, Plan
from pingan.core import context, deadlines, seeding
from pingan.core.seeding import SeedContext
from pingan.orgs.models import OrgUnit

PLAN_CODE = "bsss-2021"
PLAN_TITLE = "2021年“我为群众办实事”实践活动"
AREAS = {
    "政务服务便民利民": [
        "户籍业务“跨省通办”“全程网办”",
        "出入境证件“全国通办”、7个工作日办结",
        "电动自行车登记上牌“一次办好”",
        "电子驾驶证16市全覆盖",
        "派出所“全科警长”窗口一窗通办",
    ],
    "打击犯罪守护平安": [
        "“团圆”行动失踪被拐人员积案攻坚",
        "电信网络诈骗案件快侦快破、资金快止快返",
        "侵财案件“五快五同步”",
        "“昆仑2021”食药环犯罪专项打击",
        "涉众型经济犯罪追赃挽损",
    ],
    "基层治理解忧纾困": [
        "警格与网格融合、社区民警进网格",
        "矛盾纠纷排查化解“清零”",
        "智慧安防小区建设",
        "警保联控巡防站点建设",
        "独居老人、留守儿童走访关爱",
    ],
    "交通安全出行顺畅": [
        "城区停车难治理、开放免费停车泊位",
        "农村道路交通安全劝导站建设",
        "学校周边交通秩序整治",
        "电动自行车头盔佩戴宣传",
        "重点路段事故隐患排查整改",
    ],
}
# Where a task stops in its history, and how often (weights).
STOPS = [
    ("draft", 1),
    ("assigned", 3),
    ("in_progress", 4),
    ("waiting_info", 1),
    ("reported", 2),
    ("returned", 1),
    ("closed", 3),
]


def _first_holder(org: OrgUnit, role: str) -> User | None:
    post = Post.objects.filter(org=org, role=role, is_active=True).select_related("user").order_by("user__username")
    first = post.first()
    return first.user if first else None


def _stations_with_chiefs(city: OrgUnit) -> list[OrgUnit]:
    ids = Post.objects.filter(role="station_chief", is_active=True, org__path__under=city.path).values("org_id")
    return list(OrgUnit.objects.filter(pk__in=ids).order_by("code"))


def _worker(org: OrgUnit) -> User | None:
    for role in ("station_chief", "community_officer", "counter_officer", "bureau_leader"):
        user = _first_holder(org, role)
        if user is not None:
            return user
    return None


def _play(item: Assignment, *, stop: str, issuer: User, worker: User, start: dt.datetime) -> None:
    """Walk ``item`` to ``stop`` with back-dated steps, a day or two apart."""
    script = {
        "draft": [],
        "assigned": [("assign", issuer, {"note": "请按时限办结并报送情况"})],
        "in_progress": [("assign", issuer, {}), ("accept", worker, None)],
        "waiting_info": [
            ("assign", issuer, {}),
            ("accept", worker, None),
            ("request_info", worker, {"question": "请明确责任分工和报送格式"}),
        ],
        "reported": [
            ("assign", issuer, {}),
            ("accept", worker, None),
            ("report", worker, {"summary": "已完成阶段任务"}),
        ],
        "returned": [
            ("assign", issuer, {}),
            ("accept", worker, None),
            ("report", worker, {"summary": "已完成"}),
            ("return", issuer, {"reason": "缺少佐证材料，请补充"}),
        ],
        "closed": [
            ("assign", issuer, {}),
            ("accept", worker, None),
            ("report", worker, {"summary": "任务已完成"}),
            ("approve", issuer, {"comment": "同意办结"}),
            ("close", issuer, None),
        ],
    }[stop]
    moment = start
    for action, actor, data in script:
        with context.backdated(moment), context.acting_as(actor, channel="command"):
            actions.assignment_advance(
                assignment=item, action=action, actor=actor, data=data, expected_version=item.version
            )
        moment += dt.timedelta(days=1, hours=2)


def seed_assignments(ctx: SeedContext) -> dict[str, Any]:
    if Plan.objects.filter(code=PLAN_CODE).exists():
        return {"created": {"assignments": 0}}
    province = OrgUnit.objects.get(depth=0)
    leader = _first_holder(province, "bureau_leader")
    if leader is None:
        ctx.write("assignments: no provincial bureau leader seeded; skipped")
        return {"created": {"assignments": 0}}
    rng = ctx.rng("assignments")
    now = timezone.now()
    with context.acting_as(leader, channel="command"):
        plan = actions.plan_create(
            actor=leader, code=PLAN_CODE, title=PLAN_TITLE, year=2021, org=province, areas=list(AREAS)
        )
    areas = list(plan.areas.order_by("number"))
    cities = list(OrgUnit.objects.filter(depth=1, kind="bureau").order_by("code"))
    states, weights = zip(*STOPS, strict=True)
    created = 0
    tasks = [(area, title) for area, titles in zip(areas, AREAS.values(), strict=True) for title in titles]
    with ctx.progress(total=len(tasks) * 2, desc="assignments", unit="task") as bar:
        for number, (area, title) in enumerate(tasks):
            city = cities[number % len(cities)]
            city_leader = _first_holder(city, "bureau_leader")
            if city_leader is None:
                continue
            days = rng.choice([10, 15, 20, 30])
            item = actions.assignment_create(
                actor=leader, title=title, org=city, working_days=days, plan=plan, area=area, key_task=True
            )
            start = now - dt.timedelta(days=rng.randint(2, 45), hours=rng.randint(0, 8))
            _play(item, stop=rng.choices(states, weights)[0], issuer=leader, worker=city_leader, start=start)
            created += 1
            bar.update(1)
            # The city hands the task on to one of its stations that has a chief.
            stations = _stations_with_chiefs(city)
            if not stations:
                bar.update(1)
                continue
            station = stations[number % len(stations)]
            worker = _worker(station)
            local = actions.assignment_create(
                actor=city_leader,
                title=f"{title}（{station.name}）",
                org=station,
                working_days=rng.choice([3, 5, 8, 10]),
                plan=plan,
                area=area,
            )
            local_start = now - dt.timedelta(days=rng.randint(1, 20), hours=rng.randint(0, 8))
            _play(local, stop=rng.choices(states, weights)[0], issuer=city_leader, worker=worker, start=local_start)
            created += 1
            bar.update(1)
    # The demo station always has work: one task due soon, one overdue.
    demo_station = OrgUnit.objects.filter(code="370102001").first()
    jinan = OrgUnit.objects.filter(code="3701").first()
    jinan_leader = _first_holder(jinan, "bureau_leader") if jinan else None
    demo_worker = _worker(demo_station) if demo_station else None
    if demo_station and jinan_leader and demo_worker:
        for title, days, ago in (("排查辖区出租房屋消防隐患", 5, 9), ("核查辖区重点人员信息", 10, 3)):
            item = actions.assignment_create(
                actor=jinan_leader, title=title, org=demo_station, working_days=days, plan=plan, area=areas[2]
            )
            _play(item, stop="in_progress", issuer=jinan_leader, worker=demo_worker, start=now - dt.timedelta(days=ago))
            created += 1
    swept = deadlines.sweep()
    return {"created": {"assignments": created}, "overdue": swept.overdue, "warnings": swept.warned}


def register_steps() -> None:
    seeding.register(
        "assignments.plan",
        order=60,
        run=seed_assignments,
        description="S8 plan: 4 areas, 20 key tasks handed down with history",
    )
