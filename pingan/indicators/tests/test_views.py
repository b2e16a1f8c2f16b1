from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY

from pingan.accounts import actions as accounts
from pingan.accounts.models import CitizenProfile
from pingan.indicators import declarations
from pingan.indicators.periods import ZONE
from pingan.orgs.models import OrgUnit
from pingan.site.menu import menu_for
from pingan.testing import factories
from pingan.testing.signin import staff_login, totp_device

pytestmark = pytest.mark.django_db

URL = reverse("indicators:index")
HTMX = {"HTTP_HX_REQUEST": "true"}


def signed_in(client, user):
    """Staff through the second factor, as the site signs them in; others plainly."""
    if user.kind != "staff":
        client.force_login(user)
        return client
    staff_login(client, user)
    # staff_login relies on django-otp's login signal, which finds no ``request.user`` on
    # the test client's stand-in request; mark the session as the TOTP step would.
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = totp_device(user).persistent_id
    session.save()
    return client


def same_page(first: str, second: str) -> bool:
    """Equal but for the per-response masking of the CSRF token."""
    token = re.compile(r'(X-CSRFToken": "|name="csrfmiddlewaretoken" value=")[^"]+')
    return token.sub(r"\1", first) == token.sub(r"\1", second)


# --- Who may see the page ----------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(URL, {"org": "3701"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_citizen_is_refused(client):
    response = signed_in(client, factories.citizen()).get(URL)
    assert response.status_code == 403
    assert "民警" in response.content.decode()


def test_partner_is_refused(client):
    assert signed_in(client, factories.partner()).get(URL).status_code == 403


def test_staff_who_has_not_passed_the_second_factor_is_sent_to_it(client):
    client.force_login(factories.staff("370102001"))
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:otp"))


def test_staff_without_a_post_is_refused_with_a_reason(client):
    officer = factories.staff("370102001", roles=())
    response = signed_in(client, officer).get(URL)
    assert response.status_code == 403
    assert "没有在岗岗位" in response.content.decode()


def test_staff_sees_their_jurisdiction_by_default(client):
    response = signed_in(client, factories.staff("370102001")).get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert "解放路派出所" in page
    assert 'id="indicators-panel"' in page
    assert "在岗民警数" in page
    assert response.context["unit"].code == "370102001"


def test_staff_may_drill_down_inside_their_jurisdiction(client):
    client = signed_in(client, factories.staff("370102"))
    response = client.get(URL, {"org": "370102001"})
    assert response.status_code == 200
    assert response.context["unit"].code == "370102001"
    crumbs = [crumb["label"] for crumb in response.context["breadcrumbs"]]
    assert crumbs == ["历下区公安分局", "解放路派出所"]


@pytest.mark.parametrize("code", ["370103", "3701", "37", "3702", "370103002", "370103-criminal"])
def test_a_unit_outside_the_jurisdiction_is_not_found_like_an_unknown_one(client, code):
    client = signed_in(client, factories.staff("370102"))
    outside = client.get(URL, {"org": code})
    unknown = client.get(URL, {"org": "no-such-unit"})
    assert outside.status_code == unknown.status_code == 404
    page = outside.content.decode()
    assert OrgUnit.objects.get(code=code).name not in page
    # The same page either way, but for the address echoed in the language switcher.
    assert same_page(page.replace(code, "X"), unknown.content.decode().replace("no-such-unit", "X"))


def test_an_officer_with_several_posts_picks_one(client):
    officer = factories.staff("3701")
    accounts.post_add(user=officer, org=OrgUnit.objects.get(code="370202"), role="investigator")
    client = signed_in(client, officer)
    response = client.get(URL)
    options = response.context["unit_options"]
    assert [(option["code"], option["selected"]) for option in options] == [("3701", True), ("370202", False)]
    assert client.get(URL, {"org": "370202"}).context["unit"].code == "370202"
    assert client.get(URL, {"org": "370203"}).status_code == 404


def test_the_menu_offers_the_page_to_staff_only():
    entry = {"label": "指标", "url": URL}
    assert entry in menu_for(factories.staff("370102001"))
    assert entry not in menu_for(factories.citizen())


# --- What the page shows ---------------------------------------------------------------


@pytest.fixture
def jinan_officer():
    officer = factories.staff("3701", roles=["bureau_leader"])
    for year, county in [(2021, "370102")] * 3 + [(2020, "370102"), (2021, "370103")]:
        user = factories.citizen(county)
        CitizenProfile.objects.filter(user=user).update(created_at=dt.datetime(year, 5, 5, tzinfo=ZONE))
    return officer


def test_figures_with_arrows_coloured_by_higher_is_better(client, jinan_officer):
    response = signed_in(client, jinan_officer).get(URL, {"org": "3701", "type": "year", "period": "2021"})
    assert response.status_code == 200
    page = response.content.decode()
    rows = {row["code"]: row for row in response.context["rows"]}
    assert rows["citizens_registered"]["value"] == "4"
    assert rows["citizens_registered"]["year_change"] == "↑ +3 (+300.0%)"
    assert rows["citizens_registered"]["year_class"] == "change-good"
    assert 'class="change-good"' in page
    assert "↑ +3 (+300.0%)" in page
    # Counties have no census population: shown as not available, with the reason.
    assert "该单位没有人口普查数据" not in page  # Jinan has one
    assert rows["staff_per_100k"]["missing"] == ""


def test_ranking_of_child_units(client, jinan_officer):
    response = signed_in(client, jinan_officer).get(
        URL, {"org": "3701", "period": "2021", "sort": "citizens_registered"}
    )
    ranking = response.context["ranking_rows"]
    assert len(ranking) == 13
    assert [row["code"] for row in ranking[:2]] == ["370102", "370103"]
    registered = [column["name"] for column in response.context["ranking_columns"]].index("新注册群众数")
    assert ranking[0]["cells"][registered] == {"value": "3", "rank": "1"}
    assert ranking[1]["cells"][registered] == {"value": "1", "rank": "2"}
    assert ranking[2]["cells"][registered] == {"value": "0", "rank": "3"}
    # Per-100,000 figures of counties are not available and unranked.
    density = [column["name"] for column in response.context["ranking_columns"]].index("每十万人口民警数")
    assert ranking[0]["cells"][density] == {"value": "—", "rank": ""}
    assert 'href="/indicators/?org=370102&amp;type=year&amp;period=2021&amp;sort=citizens_registered"' in (
        response.content.decode()
    )


def test_htmx_gets_the_partial_only(client, jinan_officer):
    response = signed_in(client, jinan_officer).get(URL, {"org": "3701", "period": "2021Q2", "type": "quarter"}, **HTMX)
    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" not in page
    assert "indicator-table" in page
    assert 'hx-target="#indicators-panel"' in page
    assert next(template.name for template in response.templates) == "indicators/partials/_table.html"
    assert response.context["period"].iso == "2021Q2"
    assert "HX-Request" in response["Vary"]


def test_history_restore_gets_the_whole_page(client, jinan_officer):
    response = signed_in(client, jinan_officer).get(
        URL, {"org": "3701"}, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )
    assert "<html" in response.content.decode()


def test_changing_the_period_type_converts_the_period(client, jinan_officer):
    client = signed_in(client, jinan_officer)
    response = client.get(URL, {"org": "3701", "type": "quarter", "period": "2021"}, **HTMX)
    assert response.context["period"].iso == "2021Q4"
    assert 'value="2021Q4"' in response.content.decode()
    # The address bar gets the period shown, not the one typed.
    assert response["HX-Push-Url"] == "/indicators/?org=3701&type=quarter&period=2021Q4"
    response = client.get(URL, {"org": "3701", "type": "year", "period": "2021-07-15"}, **HTMX)
    assert response.context["period"].iso == "2021"


def test_no_period_means_the_current_year(client, jinan_officer):
    response = signed_in(client, jinan_officer).get(URL)
    assert response.context["period"].iso == str(dt.datetime.now(ZONE).year)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"period": "2021Q5"}, "季度应为 1 至 4"),
        ({"period": "2021-13"}, "月份应为 01 至 12"),
        ({"period": "yesterday"}, "无法识别的期间"),
        ({"type": "decade", "period": "2021"}, "decade"),
    ],
)
def test_bad_period_is_a_400_with_a_clear_message(client, jinan_officer, params, message):
    client = signed_in(client, jinan_officer)
    for extra in ({}, HTMX):
        response = client.get(URL, {"org": "3701", **params}, **extra)
        assert response.status_code == 400
        page = response.content.decode()
        assert message in page
        assert 'role="alert"' in page
        assert "indicator-table" not in page


def test_the_page_has_no_inline_script_or_style(client, jinan_officer):
    page = signed_in(client, jinan_officer).get(URL, {"org": "3701"}).content.decode()
    assert "<script>" not in page
    assert "style=" not in page
    assert "indicators/indicators.js" in page


# --- No N+1 ----------------------------------------------------------------------------------

# Session and user, the unit and its children, then a fixed few grouped queries per declared
# indicator (its period, the previous one, the same one last year, the children's ranking):
# nothing per child (the next test compares units with the most and fewest children).
QUERY_BOUND = 12 + 3 * len(declarations.indicators())


@pytest.mark.parametrize("code", ["37", "3701", "370102", "370102001", "37010200101"])
def test_queries_do_not_grow_with_the_number_of_children(client, django_assert_max_num_queries, code):
    admin = factories.staff("37", roles=["administrator"])
    client = signed_in(client, admin)
    client.get(URL, {"org": code})  # warm the session
    with django_assert_max_num_queries(QUERY_BOUND):
        response = client.get(URL, {"org": code, "period": "2021"}, **HTMX)
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("many", "few"),
    [("3701", "3711"), ("371721", "370571"), ("37", "370102001")],  # most and fewest children
)
def test_query_count_does_not_depend_on_the_number_of_children(client, many, few):
    admin = factories.staff("37", roles=["administrator"])
    client = signed_in(client, admin)
    counts, children = {}, {}
    for code in [many, few]:
        client.get(URL, {"org": code})
        with CaptureQueriesContext(connection) as captured:
            response = client.get(URL, {"org": code, "period": "2021"}, **HTMX)
        counts[code] = len(captured)
        children[code] = len(response.context["ranking_rows"])
    assert children[many] > children[few]
    # The province has no ancestors to show, one query fewer than any unit below it.
    assert counts[many] + (1 if many == "37" else 0) == counts[few]
