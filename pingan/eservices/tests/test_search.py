"""Finding services as citizens type: Chinese words, full pinyin, pinyin initials, English,
with filters; and the ranking exact name > prefix > keyword > pinyin > guide text."""

from __future__ import annotations

import textwrap

import pytest

from pingan.eservices import catalog, search

ID_CARD_CODES = {"id_card_first_application", "id_card_renewal", "id_card_replacement", "id_card_nonlocal_renewal"}
PASSPORT_CODES = {"passport_first", "passport_renewal", "passport_replacement"}


def codes(results: list[catalog.ServiceDefinition]) -> list[str]:
    return [service.code for service in results]


@pytest.mark.parametrize(
    "query", ["身份证", "shenfenzheng", "sfz", "SFZ", "ｓｆｚ", "shen fen zheng", "居民身份证换领"]
)
def test_id_card_services_are_found_every_way(query):
    results = codes(search.search(query))
    if query == "居民身份证换领":  # typed without the middle characters (到期, 异地, 损坏)
        assert {"id_card_renewal", "id_card_nonlocal_renewal", "id_card_damage_renewal"} <= set(results)
    else:
        assert set(results) >= ID_CARD_CODES
    # The first results are ID card services.
    assert all(code.startswith("id_card") for code in results[:3])


@pytest.mark.parametrize("query", ["护照", "huzhao", "hz", "passport", "Passport"])
def test_passports_are_found_every_way(query):
    results = codes(search.search(query))
    assert set(results) >= PASSPORT_CODES
    assert results[0].startswith("passport")


def test_other_everyday_words():
    assert codes(search.search("无犯罪"))[0] == "no_criminal_record"
    assert codes(search.search("wfz"))[0] == "no_criminal_record"
    assert "birth_registration" in codes(search.search("上户口"))
    assert {"ebike_registration", "ebike_transfer"} <= set(codes(search.search("电动车")))
    assert codes(search.search("passport renewal")) == ["passport_renewal"]
    # Several words must all match.
    assert set(codes(search.search("驾照 换证"))) >= {"driving_licence_renewal", "driving_licence_damage_renewal"}
    assert all("换证" in s.name_zh or any("换证" in k for k in s.keywords) for s in search.search("驾照 换证"))


def test_filters():
    traffic = search.search("", department="traffic")
    assert traffic
    assert all(s.department == "traffic" for s in traffic)
    assert len(traffic) == catalog.summary()["by_department"]["traffic"]["total"]
    births = search.search("", life_event="birth")
    assert "birth_registration" in codes(births)
    assert all("birth" in s.life_events for s in births)
    online_id = search.search("身份证", channel="online")
    assert online_id
    assert all("online" in s.channels for s in online_id)
    assert "id_card_temporary" not in codes(online_id)  # counter and app only
    kiosk_ids = search.search("身份证", kiosk="id_card")
    assert set(codes(kiosk_ids)) == {s.code for s in catalog.services().values() if s.kiosk == "id_card"}
    every_kiosk = search.search("", kiosk=True)
    assert len(every_kiosk) == sum(catalog.summary()["kiosk"].values())
    assert search.search("护照", department="traffic") == []
    assert search.search("", department="no_such_department") == []
    # Without a query, the filters list services in catalogue order.
    order = list(catalog.services())
    assert codes(traffic) == [code for code in order if code in set(codes(traffic))]


@pytest.mark.parametrize(
    "query", ["", "   ", "x" * 500, "<script>alert(1)</script>", "%", "\x00", "护照" * 100, "，、；"]
)
def test_odd_input_never_fails(query):
    results = search.search(query)
    assert isinstance(results, list)


# --- Ranking, on a catalogue built for it ---------------------------------------------------

RANKING = """\
services:
{items}
"""
ITEM = """\
  - code: {code}
    name: {{zh-hans: {name}, en: {english}}}
    department: exit_entry
    category: {{zh-hans: 测试, en: Test}}
    keywords: [{keywords}]
    legal_limit: {{days: 7, unit: working}}
    promised_limit: {{days: 5, unit: working}}
    fee: {{amount: "0.00"}}
    channels: [online]
    handled_at: county
    workflow: service_standard
    in_person_steps: []
    form:
      type: object
      properties:
        note: {{type: string, title: 备注, x-title-en: Note}}
      additionalProperties: false
    documents: []
    guide: {{zh-hans: {guide}, en: Guide}}
"""
SERVICES = [
    # code, name, English, keywords, guide — each matches 护照 in exactly one way
    ("by_guide", "出境证件申请", "Exit document", "出境", "可用于办理护照"),
    ("by_initials", "换证中心", "Renewal centre", "证件", "无"),
    ("by_pinyin", "呼召服务", "Calling service", "服务", "无"),
    ("by_keyword", "出国证件", "Travel document", "护照", "无"),
    ("by_name_contains", "普通护照", "Ordinary booklet", "证件", "无"),
    ("by_prefix", "护照加注", "Booklet endorsement", "证件", "无"),
    ("by_exact_name", "护照", "Booklet", "证件", "无"),
    ("unrelated", "户籍证明", "Household certificate", "证明", "无"),
]


@pytest.fixture
def ranking_catalogue(tmp_path, monkeypatch):
    items = "\n".join(
        ITEM.format(code=code, name=name, english=english, keywords=keywords, guide=guide)
        for code, name, english, keywords, guide in SERVICES
    )
    (tmp_path / "ranking.yaml").write_text(textwrap.dedent(RANKING.format(items=items)), encoding="utf-8")
    monkeypatch.setattr(catalog, "_cache", catalog.load(tmp_path))
    return catalog.services()


def test_ranking_exact_prefix_keyword_pinyin_guide(ranking_catalogue):
    assert codes(search.search("护照")) == [
        "by_exact_name",
        "by_prefix",
        "by_name_contains",
        "by_keyword",
        "by_guide",
    ]
    # Pinyin finds 呼召 (hu zhao) as well as 护照; initials find 换证 (h z) too, below an
    # exact match of the initials (护照 -> hz).
    pinyin = codes(search.search("huzhao"))
    assert pinyin[0] == "by_exact_name"
    assert "by_pinyin" in pinyin
    assert "unrelated" not in pinyin
    initials = codes(search.search("hz"))
    assert initials[0] == "by_exact_name"
    assert "by_initials" in initials
    assert "unrelated" not in initials
    assert codes(search.search("cjzj"))[0] == "by_guide"  # 出境证件: initials of the name
    # The index follows the loaded catalogue (rebuilt after a reload or a swap).
    assert codes(search.search("booklet endorsement")) == ["by_prefix"]


def test_index_is_built_once_per_catalogue(ranking_catalogue):
    search.search("护照")
    first = search._entries()
    search.search("户籍")
    assert search._entries() is first
