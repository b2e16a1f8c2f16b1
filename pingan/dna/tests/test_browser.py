"""The examiner's work in a real browser: open the review queue, open the top candidate
(the trio of the boy taken in 1997 against the adult seeker), confirm it by ordering a
re-test, enter the re-test's profile, and record the reunion; both records show reunited
and the relatives' DNA is deleted unless they consented to keep it."""

from __future__ import annotations

import json
import re

import pytest

from pingan.dna.models import Candidate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_examiner_reviews_a_dna_candidate_and_records_the_reunion(
    page, live_server, story, make_record, type_person, people, examiner, point
):
    from pingan.testing.signin import browser_sign_in

    # A second, weaker candidate below the story's: a mother alone against a found child.
    other = people.family()
    missing = make_record("missing", relations=("mother",))
    type_person(missing, "mother", other["mother"])
    type_person(make_record("found"), "self", other["child"])
    top = Candidate.objects.get(found_reference=story["seeker"].reference)
    assert Candidate.objects.count() == 2

    browser_sign_in(page, examiner, live_server)
    page.goto("/dna/review/")
    rows = page.locator('[data-testid="queue"] tbody tr')
    assert rows.count() == 2
    assert rows.first.get_attribute("data-candidate") == top.code
    rows.first.locator("a").click()
    page.wait_for_url(re.compile(rf"/dna/candidates/{top.code}/$"))
    assert page.locator('[data-testid="state"]').inner_text() == "待研判"
    assert page.locator('[data-testid="inconsistent"]').inner_text() == str(len(top.inconsistent_loci))
    assert page.locator('[data-testid="loci"] tbody tr').count() == len(top.loci_lr)
    assert page.locator('[data-testid="suggestions"] li').count() >= 1

    page.locator('button[data-action="order_retest"]').click()
    page.wait_for_load_state()
    assert page.locator('[data-testid="state"]').inner_text() == "待复核检验"

    page.get_by_label("采血点").select_option(point.code)
    page.get_by_label("复核检材分型（JSON 或 CSV）").fill(json.dumps(story["family"]["child"].to_json()))
    page.locator('button[data-action="retest"]').click()
    page.wait_for_load_state()
    assert "复核检验与原分型一致" in page.locator(".messages").inner_text()
    assert page.locator('[data-testid="state"]').inner_text() == "已确认"

    page.get_by_label("团圆说明").fill("DNA三联体比中，复核一致，认定团圆")
    page.locator('button[data-action="reunion"]').click()
    page.wait_for_load_state()
    assert "已认定团圆" in page.locator(".messages").inner_text()
    assert page.locator('[data-testid="missing-state"]').inner_text() == "已团圆"
    assert page.locator('[data-testid="found-state"]').inner_text() == "已团圆"

    story["missing"].refresh_from_db()
    story["seeker"].refresh_from_db()
    assert story["missing"].state == "reunited"
    assert story["seeker"].state == "reunited"
    for profile in story["parents"]:
        profile.refresh_from_db()
        assert profile.deleted_at is not None
        assert profile.genotype == ""
