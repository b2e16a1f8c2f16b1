"""Seed step: a few ratings of finished demo services and one open rectification.

Rateable subjects come from other apps (``subjects.register(..., demo_subjects=...)``);
with none registered yet the step does nothing and says so. It runs on every seed
(``always``): it is cheap, and once a module registers demo subjects it fills in."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from pingan.core import context, seeding
from pingan.core.seeding import SeedContext
from pingan.ratings import actions, subjects
from pingan.ratings.models import Rating, Rectification
from pingan.ratings.queries import OPEN_STATES

WANTED = {"small": 8, "city": 40, "province": 100}
GOOD_LEVELS, GOOD_WEIGHTS = (5, 4, 3), (6, 3, 1)
PRAISE = ["", "", "办理很快，民警态度很好。", "指南写得清楚，一次办好。", "窗口引导细致，点赞。"]
COMPLAINT = "排队等候时间过长，窗口只开了一个，工作人员解释不清楚需要补充的材料。"


def seed_ratings(ctx: SeedContext) -> dict[str, Any]:
    types = [kind for kind in subjects.registered() if kind.demo_subjects is not None]
    if not types:
        ctx.write("ratings: no rateable subject type offers demo subjects yet; skipped")
        return {"created": {"ratings": 0, "rectifications": 0}}
    users = get_user_model().objects
    rng = ctx.rng("ratings")
    wanted = WANTED.get(ctx.scale, WANTED["small"])
    created = opened = 0
    need_open = not Rectification.objects.filter(state__in=OPEN_STATES).exists()
    for kind in types:
        for subject_id in kind.demo_subjects(wanted):  # type: ignore[misc]
            if Rating.objects.filter(subject_type=kind.code, subject_id=subject_id).exists():
                continue
            subject = subjects.resolve(kind.code, subject_id)
            if subject is None or not subject.finished:
                continue
            rater = users.filter(pk=subject.owner).first()
            if rater is None:
                continue
            if need_open:
                level, comment = 2, COMPLAINT
            else:
                level, comment = rng.choices(GOOD_LEVELS, GOOD_WEIGHTS)[0], rng.choice(PRAISE)
            with context.acting_as(rater, channel="command"):
                actions.rate(actor=rater, subject_type=kind.code, subject_id=subject_id, level=level, comment=comment)
            created += 1
            opened += int(need_open)
            need_open = False
    ctx.write(f"ratings: {created} ratings, {opened} open rectification(s)")
    return {"created": {"ratings": created, "rectifications": opened}}


def register_steps() -> None:
    seeding.register(
        "ratings.demo",
        order=90,
        run=seed_ratings,
        description="好差评: a few ratings of finished demo services, one open rectification",
        always=True,
    )
