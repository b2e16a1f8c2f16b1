"""The demo province: ``manage.py seed`` runs registered seed steps in order.

Each app contributes steps in its ``AppConfig.ready()``::

    from pingan.core import seeding

    seeding.register("orgs.tree", order=10, run=seed_tree, description="org tree and grids")

A step is a function ``run(ctx: SeedContext) -> dict | None``. It must be

- **deterministic**: draw every random choice from ``ctx.rng(...)`` (a ``random.Random``
  derived from the seed, the step's name and any salt you pass, so steps never perturb
  each other and a stream salted per city stays the same when another city grows);
- **idempotent**: look up what exists by natural keys and create only what is missing, so
  a re-run, or a run at a larger scale, adds data and never deletes anyone's;
- **synthetic**: people come from :func:`person_name`, :func:`birth_date`, :func:`mobile`
  and :func:`resident_id` below, never from real records.

What a step returns (JSON) is recorded in ``core.SeedRun`` and handed to later steps as
``ctx.shared[step_name]``; a re-run with the same scale, seed and fraction skips the step
and restores that value, so seeding a seeded database takes a moment.
See ``docs/how-to/add-a-seed-step.md``.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import json
import random
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from tqdm import tqdm

from pingan.core import context, registry
from pingan.core.identity import make_resident_id
from pingan.core.models import SeedRun

SCALES = ("small", "city", "province")
# Share of each city's real 2020 population seeded as citizens, where the scale uses one.
DEFAULT_FRACTION = {"small": 0.0, "city": 0.01, "province": 0.001}
# Birthdays and ages are computed from a fixed day, so the same seed gives the same people
# whatever day it runs.
REFERENCE_DAY = dt.date(2025, 1, 1)


class SeedError(ValueError):
    """Bad arguments to a seed run (unknown scale, fraction out of range)."""


StepFunction = Callable[["SeedContext"], Mapping[str, Any] | None]


@dataclass(frozen=True)
class SeedStep:
    name: str
    order: int
    run: StepFunction
    description: str = ""
    # Runs even when recorded as done: for cheap steps that check their own state each time
    # (the demo accounts notice a deleted credentials file).
    always: bool = False


def register(name: str, *, order: int, run: StepFunction, description: str = "", always: bool = False) -> SeedStep:
    """Add a step (call from ``AppConfig.ready()``); steps run by ``order``, then name."""
    step = SeedStep(name=name, order=order, run=run, description=description, always=always)
    return registry.seed_steps.register(name, step)


def registered_steps() -> list[SeedStep]:
    return sorted(registry.seed_steps.values(), key=lambda step: (step.order, step.name))


@dataclass
class SeedContext:
    """What a step gets: the scale and seed, its random streams, progress bars, output."""

    scale: str
    seed: int
    fraction: float
    step: str = ""
    shared: dict[str, Any] = field(default_factory=dict)
    credentials_file: Path = field(default_factory=lambda: Path(settings.VAR_DIR) / "demo-credentials.txt")
    progress_enabled: bool = True
    writer: Callable[[str], Any] = print

    def rng(self, *salt: object) -> random.Random:
        """A random stream for this step (and salt): the same on every run with this seed."""
        material = "\x1f".join([str(self.seed), self.step, *(str(part) for part in salt)])
        return random.Random(int.from_bytes(hashlib.sha256(material.encode()).digest()[:8], "big"))

    def progress(
        self, iterable: Iterable[Any] | None = None, *, total: int | None = None, desc: str = "", unit: str = "it"
    ) -> tqdm:
        """A tqdm bar on stderr (silent with ``--no-progress``); use as iterator or ``update()``."""
        return tqdm(
            iterable,
            total=total,
            desc=desc or self.step,
            unit=unit,
            unit_scale=True,
            disable=not self.progress_enabled,
            file=sys.stderr,
            leave=False,
            dynamic_ncols=True,
        )

    def write(self, message: str) -> None:
        self.writer(message)


@dataclass(frozen=True)
class StepOutcome:
    step: str
    skipped: bool
    seconds: float
    result: dict[str, Any]


def effective_fraction(scale: str, fraction: float | None) -> float:
    if scale not in SCALES:
        raise SeedError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    if scale == "small":
        if fraction is not None:
            raise SeedError("--fraction applies to the city and province scales only")
        return 0.0
    value = DEFAULT_FRACTION[scale] if fraction is None else float(fraction)
    if not 0 < value <= 1:
        raise SeedError(f"fraction must be in (0, 1], got {value}")
    return value


def run(
    *,
    scale: str,
    seed: int = 1,
    fraction: float | None = None,
    steps: Sequence[SeedStep] | None = None,
    progress: bool = True,
    writer: Callable[[str], Any] = print,
    credentials_file: Path | None = None,
    recheck: bool = False,
    only: Sequence[str] = (),
) -> list[StepOutcome]:
    """Run the seed steps in order. A step already completed with this scale, seed and
    fraction is skipped unless ``recheck`` (then it checks by natural keys and adds what is
    missing). ``only`` limits the run to steps matching these names or patterns
    (``accounts.*``). Each step commits its own work; a failed run resumes where it stopped."""
    effective = effective_fraction(scale, fraction)
    chosen = registered_steps() if steps is None else sorted(steps, key=lambda s: (s.order, s.name))
    if only:
        unknown = [pattern for pattern in only if not any(fnmatch.fnmatch(s.name, pattern) for s in chosen)]
        if unknown:
            raise SeedError(f"no seed step matches {', '.join(unknown)}; steps: {', '.join(s.name for s in chosen)}")
        chosen = [s for s in chosen if any(fnmatch.fnmatch(s.name, pattern) for pattern in only)]
    ctx = SeedContext(scale=scale, seed=seed, fraction=effective, progress_enabled=progress, writer=writer)
    if credentials_file is not None:
        ctx.credentials_file = Path(credentials_file)
    outcomes = []
    with context.acting_as(None, channel="command"):
        for step in chosen:
            ctx.step = step.name
            done = SeedRun.objects.filter(step=step.name, scale=scale, seed=seed, fraction=effective).first()
            started = time.perf_counter()
            if done is not None and not recheck and not step.always:
                ctx.shared[step.name] = done.result
                outcomes.append(StepOutcome(step.name, True, time.perf_counter() - started, done.result))
                writer(f"{step.name}: done before ({_summary(done.result)}), skipped")
                continue
            started_at = timezone.now()
            result = _plain(step.run(ctx) or {})
            seconds = time.perf_counter() - started
            SeedRun.objects.update_or_create(
                step=step.name,
                scale=scale,
                seed=seed,
                fraction=effective,
                defaults={"started_at": started_at, "finished_at": timezone.now(), "result": result},
            )
            ctx.shared[step.name] = result
            outcomes.append(StepOutcome(step.name, False, seconds, result))
            writer(f"{step.name}: {_summary(result)} ({seconds:.1f} s)")
    return outcomes


def _plain(data: Mapping[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(dict(data), cls=DjangoJSONEncoder, ensure_ascii=False))


def _summary(result: Mapping[str, Any]) -> str:
    created = result.get("created")
    if isinstance(created, Mapping):
        return ", ".join(f"{key} +{value}" for key, value in created.items()) or "nothing new"
    if isinstance(created, int):
        return f"+{created}"
    return "done"


# --- Synthetic people ---------------------------------------------------------------
# Common Chinese surnames with rough national shares (per cent): enough for plausible
# names, never a real person's record.
SURNAMES: dict[str, float] = {
    "王": 7.1, "李": 7.0, "张": 6.8, "刘": 5.4, "陈": 4.6, "杨": 3.1, "黄": 2.2, "赵": 2.0, "吴": 1.9,
    "周": 1.8, "徐": 1.7, "孙": 1.5, "马": 1.5, "朱": 1.3, "胡": 1.3, "郭": 1.2, "何": 1.2, "高": 1.1,
    "林": 1.1, "罗": 1.1, "郑": 1.0, "梁": 1.0, "谢": 0.8, "宋": 0.8, "唐": 0.8, "许": 0.7, "韩": 0.7,
    "冯": 0.7, "邓": 0.7, "曹": 0.7, "彭": 0.6, "曾": 0.6, "肖": 0.6, "田": 0.6, "董": 0.6, "袁": 0.5,
    "潘": 0.5, "于": 0.5, "蒋": 0.5, "蔡": 0.5, "余": 0.5, "杜": 0.5, "叶": 0.4, "程": 0.4, "苏": 0.4,
    "魏": 0.4, "吕": 0.4, "丁": 0.4, "任": 0.4, "沈": 0.4, "姚": 0.4, "卢": 0.4, "姜": 0.4, "崔": 0.4,
    "钟": 0.3, "谭": 0.3, "陆": 0.3, "汪": 0.3, "范": 0.3, "金": 0.3, "石": 0.3, "廖": 0.3, "贾": 0.3,
    "夏": 0.3, "韦": 0.3, "付": 0.3, "方": 0.3, "白": 0.3, "邹": 0.3, "孟": 0.3, "熊": 0.3, "秦": 0.3,
    "邱": 0.3, "江": 0.3, "尹": 0.3, "薛": 0.3, "闫": 0.3, "段": 0.2, "雷": 0.2, "侯": 0.2, "龙": 0.2,
    "史": 0.2, "陶": 0.2, "黎": 0.2, "贺": 0.2, "顾": 0.2, "毛": 0.2, "郝": 0.2, "龚": 0.2, "邵": 0.2,
    "万": 0.2, "钱": 0.2, "严": 0.2, "武": 0.2, "戴": 0.2, "孔": 0.2, "常": 0.2, "乔": 0.2, "牛": 0.2,
    "葛": 0.2, "邢": 0.2, "安": 0.2, "齐": 0.2, "庞": 0.1, "岳": 0.1, "宫": 0.1, "鲁": 0.1,
}  # fmt: skip
GIVEN_CHARS = {
    "M": "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宁凯健俊帅浩宇晨轩博文志建国峰东海亮成龙林洋振永兴家子"
    "梓睿泽昊然天晓立新庆春祥瑞德",
    "F": "芳娜敏静丽艳娟霞秀玲桂英燕婷雪慧颖琳欣怡萱涵佳悦雨梦思诗晶倩璐丹红洁琪月媛蕾薇晴彤妍淑兰梅凤莉玉婉萍宁晓",
}
_SURNAME_LIST = list(SURNAMES)
_SURNAME_WEIGHTS = list(SURNAMES.values())
# Real mainland mobile prefixes (China Mobile, Unicom, Telecom, Broadnet).
_PREFIXES = [*range(130, 140), 150, 151, 152, 153, 155, 156, 157, 158, 159, 166, 172, 173, 175, 176, 177, 178]
MOBILE_PREFIXES = tuple(str(prefix) for prefix in [*_PREFIXES, *range(180, 190), 191, 193, 195, 198, 199])
# Adults on the platform: ages 18 to 85, fewer above 60 (Shandong 2020 census shape, roughly).
_AGES = list(range(18, 86))
_AGE_WEIGHTS = [1.0 if age < 60 else max(0.15, 1.0 - (age - 60) * 0.035) for age in _AGES]


def person_name(rng: random.Random, sex: str) -> str:
    surname = rng.choices(_SURNAME_LIST, _SURNAME_WEIGHTS)[0]
    chars = GIVEN_CHARS[sex]
    length = 1 if rng.random() < 0.3 else 2
    return surname + "".join(rng.choice(chars) for _ in range(length))


def birth_date(rng: random.Random, *, ages: Sequence[int] = _AGES, weights: Sequence[float] = _AGE_WEIGHTS) -> dt.date:
    """A birthday ``age`` years before the reference day (age drawn with ``weights``)."""
    age = rng.choices(ages, weights)[0]
    earliest = REFERENCE_DAY.replace(year=REFERENCE_DAY.year - age - 1) + dt.timedelta(days=1)
    return earliest + dt.timedelta(days=rng.randrange(365))


def mobile(rng: random.Random, *, partition: int = 0, partitions: int = 1) -> str:
    """An 11-digit mobile number: real prefix, random tail. The 4-digit block after the
    prefix is ``partition`` modulo ``partitions``, so streams for different partitions
    (cities) never produce the same number."""
    block = rng.randrange(10000 // partitions) * partitions + partition
    return f"{rng.choice(MOBILE_PREFIXES)}{block:04d}{rng.randrange(10000):04d}"


def resident_id(rng: random.Random, *, county_code: str, born: dt.date, sex: str) -> str:
    """A valid ID number (GB 11643 check digit); the sequence's parity carries the sex."""
    sequence = rng.randrange(500) * 2 + (1 if sex == "M" else 0)
    return make_resident_id(county_code, born, sequence)
