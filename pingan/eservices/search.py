"""Finding a service the way citizens type: Chinese words (身份证), full pinyin
(shenfenzheng), pinyin initials (sfz) or English words (passport), with filters.

    search("sfz", channel="online") -> [ServiceDefinition, ...]   # best first

Ranking, best first: exact name > name prefix > name contains > keyword or category >
English word > pinyin > pinyin initials > characters in order > guide text. Several query
words must all match (their scores add up); ties go to the self-service (high-frequency)
items. The index (names and keywords in pinyin, built with ``pypinyin``,
whose dictionary ships with the package) is built once per loaded catalogue.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from pypinyin import Style, lazy_pinyin

from pingan.eservices import catalog
from pingan.eservices.catalog import ServiceDefinition

MAX_QUERY = 64  # characters; longer input is cut (nobody types a service name that long)

EXACT = 100
PREFIX = 90
NAME_CONTAINS = 80
KEYWORD_EXACT = 75
KEYWORD = 70
ENGLISH_WORD = 65
PINYIN = 50
INITIALS_EXACT = 45
INITIALS = 40
IN_ORDER = 30
GUIDE = 20

_ASCII_WORD = re.compile(r"[a-z0-9]+")
_NOT_ALNUM = re.compile(r"[^a-z0-9]")


@dataclass(frozen=True)
class _Pinyin:
    """A text in toneless pinyin: the syllables joined, where each syllable starts, and the
    initial letters (身份证 -> "shenfenzheng", {0, 4, 7}, "sfz")."""

    full: str
    starts: frozenset[int]
    initials: str

    @classmethod
    def of(cls, text: str) -> _Pinyin:
        chunks = lazy_pinyin(text, style=Style.NORMAL, errors="default")
        syllables = [syllable for syllable in (_NOT_ALNUM.sub("", chunk.lower()) for chunk in chunks) if syllable]
        starts, offset = [], 0
        for syllable in syllables:
            starts.append(offset)
            offset += len(syllable)
        initials = "".join(syllable[0] for syllable in syllables)
        return cls("".join(syllables), frozenset(starts), initials)

    def matches(self, term: str) -> bool:
        """``term`` occurs in the pinyin, starting at a syllable (so "fen" finds 身份证 but
        "enz" does not)."""
        index = self.full.find(term)
        while index != -1:
            if index in self.starts:
                return True
            index = self.full.find(term, index + 1)
        return False


@dataclass(frozen=True)
class _Entry:
    service: ServiceDefinition
    name_zh: str
    name_en: str
    english_words: frozenset[str]
    keywords: tuple[str, ...]
    categories: tuple[str, ...]
    pinyins: tuple[_Pinyin, ...]  # the name first, then keywords and category
    guide: str
    order: int

    def score(self, term: str) -> int:
        """How well one normalised query word matches (0: not at all); a field matching at a
        lower tier adds one point, so more evidence wins a tie."""
        tiers = [
            EXACT if term in (self.name_zh, self.name_en) else 0,
            PREFIX if self.name_zh.startswith(term) or (len(term) > 1 and self.name_en.startswith(term)) else 0,
            NAME_CONTAINS if term in self.name_zh else 0,
            KEYWORD_EXACT if term in self.keywords else 0,
            KEYWORD if any(term in text for text in self.keywords + self.categories) else 0,
        ]
        if _ASCII_WORD.fullmatch(term):
            tiers.append(ENGLISH_WORD if any(word.startswith(term) for word in self.english_words) else 0)
            if len(term) > 1:
                tiers.append(PINYIN if any(p.matches(term) for p in self.pinyins) else 0)
                tiers.append(INITIALS_EXACT if any(p.initials == term for p in self.pinyins) else 0)
                tiers.append(INITIALS if any(term in p.initials for p in self.pinyins) else 0)
        if len(term) > 1:
            in_order = not _ASCII_WORD.fullmatch(term) and any(
                _in_order(term, t) for t in (self.name_zh, *self.keywords)
            )
            tiers.append(IN_ORDER if in_order else 0)
            tiers.append(GUIDE if term in self.guide else 0)
        found = [tier for tier in tiers if tier]
        return max(found) * 10 + len(found) - 1 if found else 0


def _in_order(term: str, text: str) -> bool:
    """Every character of ``term`` occurs in ``text`` in the same order (居民身份证换领 finds
    居民身份证到期换领: Chinese is typed without spaces, so words cannot be split)."""
    rest = iter(text)
    return all(char in rest for char in term)


def normalise(query: str) -> list[str]:
    """Lower-case words, full-width characters folded (ＳＦＺ -> sfz), at most MAX_QUERY
    characters."""
    text = unicodedata.normalize("NFKC", query or "")[:MAX_QUERY].lower()
    return [word for word in re.split(r"[\s,，、;；]+", text) if word]


def _entry(service: ServiceDefinition, order: int) -> _Entry:
    keywords = tuple(k.lower() for k in service.keywords)
    categories = (service.category_zh, service.category_en.lower())
    texts = [service.name_zh, *service.keywords, service.category_zh]
    return _Entry(
        service=service,
        name_zh=service.name_zh,
        name_en=service.name_en.lower(),
        english_words=frozenset(_ASCII_WORD.findall(f"{service.name_en} {service.category_en}".lower())),
        keywords=keywords,
        categories=categories,
        pinyins=tuple(_Pinyin.of(text) for text in texts),
        guide=f"{service.guide_zh} {service.guide_en}".lower(),
        order=order,
    )


_lock = threading.Lock()
_index: tuple[dict[str, ServiceDefinition], list[_Entry]] | None = None


def _entries() -> list[_Entry]:
    """The index of the loaded catalogue, rebuilt when the catalogue is reloaded."""
    global _index
    services = catalog.services()
    current = _index
    if current is None or current[0] is not services:
        with _lock:
            if _index is None or _index[0] is not services:
                _index = (services, [_entry(service, order) for order, service in enumerate(services.values())])
            current = _index
    return current[1]


def _matches_filters(
    service: ServiceDefinition,
    department: str | None,
    life_event: str | None,
    channel: str | None,
    kiosk: str | bool | None,
) -> bool:
    if department and service.department != department:
        return False
    if life_event and life_event not in service.life_events:
        return False
    if channel and channel not in service.channels:
        return False
    if kiosk is True:
        return service.kiosk is not None
    return not (kiosk and service.kiosk != kiosk)


def _score(entry: _Entry, terms: Iterable[str]) -> int:
    total = 0
    for term in terms:
        score = entry.score(term)
        if not score:
            return 0
        total += score
    return total


def search(
    query: str,
    *,
    department: str | None = None,
    life_event: str | None = None,
    channel: str | None = None,
    kiosk: str | bool | None = None,
) -> list[ServiceDefinition]:
    """Services matching ``query`` and every given filter, best first. An empty query lists
    every service passing the filters in catalogue order. ``kiosk``: a category code, or
    ``True`` for any kiosk item. Unknown filter values simply match nothing."""
    terms = normalise(query)
    candidates = [
        entry for entry in _entries() if _matches_filters(entry.service, department, life_event, channel, kiosk)
    ]
    if not terms:
        return [entry.service for entry in candidates]
    if len(terms) > 1 and all(_ASCII_WORD.fullmatch(term) for term in terms):
        # "shen fen zheng" is pinyin typed with spaces: as one word when that finds anything.
        joined = _ranked(candidates, ["".join(terms)])
        if joined:
            return joined
    return _ranked(candidates, terms)


def _ranked(entries: list[_Entry], terms: list[str]) -> list[ServiceDefinition]:
    """Matching entries, best first; ties go to self-service (high-frequency) items, then to
    shorter names, then to catalogue order."""
    scored = []
    for entry in entries:
        score = _score(entry, terms)
        if score:
            scored.append((-score, entry.service.kiosk is None, len(entry.name_zh), entry.order, entry.service))
    scored.sort(key=lambda item: item[:4])
    return [item[4] for item in scored]
