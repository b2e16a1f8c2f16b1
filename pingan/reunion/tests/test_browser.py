"""团圆 in a real browser: a father reports his missing son online (the county picker fills
the coordinates without any map tiles), the station's officer verifies the report, the
county investigator publishes an emergency alert, and a subscriber within the first
hour's 100 km receives it while one 400 km away does not."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from pingan.alerts import actions as alert_actions
from pingan.alerts.models import Alert, AlertDelivery
from pingan.core import geo
from pingan.reunion.models import PersonRecord
from pingan.reunion.tests.conftest import GULOU, STATION
from pingan.testing import factories
from pingan.testing.signin import browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_report_verify_publish_and_only_subscribers_in_range_receive(page, live_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    father = factories.citizen("371502", name="林建国", birth=dt.date(1965, 2, 3), home_org_code=STATION)
    officer = factories.staff(STATION, ["community_officer"], name="社区民警")
    investigator = factories.staff("371502-criminal", ["investigator"], name="孙刚")
    near = factories.citizen("371502", name="近处群众", home_org_code="371502002")
    far = factories.citizen("370202", name="青岛群众", home_org_code="370202001")
    alert_actions.subscription_set(user=near, point=geo.Point(GULOU[0] + 0.3, GULOU[1] + 0.1))  # ~35 km
    alert_actions.subscription_set(user=far, point=geo.Point(36.07, 120.38))  # Qingdao, ~400 km

    # The father reports online.
    browser_sign_in(page, father, live_server)
    page.goto("/reunion/report/")
    seen = timezone.localtime() - dt.timedelta(hours=1)
    page.locator("#id_name").fill("林小军")
    page.locator("#id_sex").select_option("M")
    page.locator("#id_birth_date").fill((seen.date() - dt.timedelta(days=365 * 6 + 30)).isoformat())
    page.locator("#id_height_cm").fill("118")
    page.locator("#id_marks").fill("左臂内侧有褐色胎记")
    page.get_by_label("胎记", exact=True).check()
    page.locator("#id_circumstance").select_option("lost")
    page.locator("#id_reporter_relation").select_option("father")
    page.locator("#id_event_date").fill(seen.date().isoformat())
    page.locator("#id_event_time").fill(seen.strftime("%H:%M"))
    page.locator("#id_place_text").fill("东昌府区古楼街道集市")
    page.locator("#id_division_code").select_option("371502")
    # The picker fills the county seat's coordinates (no map tiles, works offline) ...
    assert page.locator("#id_latitude").input_value() == "36.071924"
    assert page.locator("#id_longitude").input_value() == "115.915340"
    # ... which the family can correct to the market where he was last seen.
    page.locator("#id_latitude").fill(str(GULOU[0]))
    page.locator("#id_longitude").fill(str(GULOU[1]))
    page.locator("#id_public_description").fill("身穿蓝色上衣")
    page.locator("#id_relatives-0-relation").select_option("father")
    page.locator("#id_relatives-0-name").fill("林建国")
    page.locator("#id_relatives-0-phone").fill("13906350001")
    # Without consent nothing is stored and the page says why.
    page.locator('[data-testid="submit"]').click()
    page.wait_for_load_state()
    assert "未同意不能提交" in page.locator('[data-error-for="consent"]').inner_text()
    assert not PersonRecord.objects.exists()
    page.locator("#id_consent").check()
    page.locator("#id_relatives-0-phone").fill("13906350001")
    page.locator('[data-testid="submit"]').click()
    page.wait_for_url(re.compile(r"/reunion/r/XR\d+/$"))
    assert page.locator('[data-testid="state"]').inner_text() == "待核查"
    record = PersonRecord.objects.get()
    assert record.org.code == STATION
    assert record.relatives.count() == 1

    # The station's officer finds it in "my work" and verifies it.
    browser_sign_in(page, officer, live_server)
    page.goto("/inbox/")
    page.locator("tr.inbox-row a", has_text="核查寻亲登记").first.click()
    page.wait_for_url(re.compile(rf"/reunion/r/{record.reference}/$"))
    assert "林**" in page.locator('[data-testid="name"]').inner_text()
    assert page.locator('[data-action="publish-alert"]').count() == 0  # not a publishing unit
    form = page.locator("form.action-form", has=page.locator('button[data-action="verify"]'))
    form.locator('[name="note"]').fill("已电话联系家属并到现场核实")
    form.locator('button[data-action="verify"]').click()
    page.wait_for_load_state()
    assert page.locator('[data-testid="state"]').inner_text() == "查找中"

    # The county investigator publishes the alert.
    browser_sign_in(page, investigator, live_server)
    page.goto(f"/reunion/r/{record.reference}/")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator('[data-action="publish-alert"]').click()
    page.wait_for_load_state()
    assert "已推送 1 人" in page.locator(".messages").inner_text()
    alert = Alert.objects.get()
    assert alert.subject_id == record.reference
    assert alert.reference in page.locator('[data-testid="alert"]').inner_text()

    # In range: received. Out of range: not.
    assert set(AlertDelivery.objects.values_list("user_id", flat=True)) == {near.pk}
    browser_sign_in(page, near, live_server)
    page.goto("/alerts/received/")
    assert page.locator(f'[data-alert="{alert.reference}"]').count() == 1
    assert "林**" in page.locator(f'[data-alert="{alert.reference}"]').inner_text()
    browser_sign_in(page, far, live_server)
    page.goto("/alerts/received/")
    assert page.locator(f'[data-alert="{alert.reference}"]').count() == 0


def test_a_click_on_the_map_sets_the_place(page, live_server):
    from pingan.reunion import maps

    father = factories.citizen("371502", name="林建国", birth=dt.date(1965, 2, 3), home_org_code=STATION)
    browser_sign_in(page, father, live_server)
    page.goto("/reunion/report/")
    svg = page.locator("svg[data-map-picker]")
    box = svg.bounding_box()
    x, y = maps.project(36.4570, 115.9854)  # Liaocheng's city seat
    svg.click(position={"x": box["width"] * x / maps.WIDTH, "y": box["height"] * y / maps.HEIGHT})
    latitude = float(page.locator("#id_latitude").input_value())
    longitude = float(page.locator("#id_longitude").input_value())
    assert abs(latitude - 36.4570) < 0.05
    assert abs(longitude - 115.9854) < 0.05
    marker = page.get_by_test_id("map-marker")
    assert abs(float(marker.get_attribute("cx")) - x) < 3
    assert abs(float(marker.get_attribute("cy")) - y) < 3
    # Typing coordinates moves the marker too.
    page.locator("#id_latitude").fill("36.6512")
    page.locator("#id_longitude").fill("117.1201")
    assert abs(float(marker.get_attribute("cx")) - maps.project(36.6512, 117.1201)[0]) < 1
