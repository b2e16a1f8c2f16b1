"""The e-services in a real browser: a citizen finds a service by pinyin, fills the form,
uploads a document, checks the answers and submits (a double click makes one application);
the station's all-round window asks for material once, the citizen supplies it, the
window approves and issues; the citizen sees it finished. And counter mode."""

from __future__ import annotations

import re

import pytest

from pingan.eservices import samples
from pingan.eservices.models import Application
from pingan.eservices.tests.conftest import station_service
from pingan.testing import factories
from pingan.testing.signin import browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def take(page, action: str, **fields: str) -> None:
    form = page.locator("form.action-form", has=page.locator(f'button[data-action="{action}"]'))
    for name, value in fields.items():
        field = form.locator(f'[name="{name}"]')
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    form.locator(f'button[data-action="{action}"]').click()
    page.wait_for_load_state()


def fill_form(page, schema: dict) -> None:
    for name, value in samples.answers(schema).items():
        spec = schema["properties"][name]
        field = page.locator(f'[name="{name}"]')
        if "enum" in spec:
            field.select_option(str(value))
        elif spec.get("type") == "boolean":
            field.check()
        else:
            field.fill(str(value))


def test_apply_online_then_the_window_decides(page, live_server, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    citizen = factories.citizen("370102", name="赵敏", home_org_code="370102001")
    officer = factories.staff("370102001", ["counter_officer"], name="张伟")
    service = station_service(
        lambda s: s.workflow == "service_standard" and s.zero_trip and any(d.required for d in s.documents)
    )

    browser_sign_in(page, citizen, live_server)
    page.goto(f"{live_server.url}/services/?q={service.name[:4]}")
    page.locator("table.services a", has_text=service.name).first.click()
    page.wait_for_url(re.compile(rf"/services/s/{service.code}/$"))
    assert page.locator('[data-testid="visits"]').inner_text() == "零跑腿"
    page.click('[data-testid="apply"]')
    page.wait_for_url(re.compile(r"/services/a/SQ\d+/edit/$"))
    fill_form(page, service.form)
    page.click('[data-testid="next"]')
    page.wait_for_url(re.compile(r"/documents/$"))
    for spec in service.documents:
        if spec.required:
            name, content = samples.document_for(spec)
            path = tmp_path / name
            path.write_bytes(content)
            page.set_input_files(f'[data-testid="file-{spec.code}"]', str(path))
            page.click(f'[data-testid="upload-{spec.code}"]')
            page.wait_for_load_state()
    page.click('[data-testid="next"]')
    page.wait_for_url(re.compile(r"/check/$"))
    page.dblclick('[data-testid="submit"]')  # a double click: still one application
    page.wait_for_url(re.compile(r"/submitted/$"))
    reference = page.locator('[data-testid="reference"]').inner_text()
    assert Application.objects.filter(applicant=citizen).count() == 1
    application = Application.objects.get(reference=reference)
    assert application.state == "submitted"

    browser_sign_in(page, officer, live_server)
    page.goto(f"{live_server.url}/services/workbench/")
    assert reference in page.locator('[data-testid="queue"]').inner_text()
    page.locator("a", has_text=reference).click()
    take(page, "accept")
    take(page, "request_supplement", items="请补充清晰的材料扫描件")
    assert page.locator('[data-testid="state"]').inner_text() == "待补正"

    browser_sign_in(page, citizen, live_server)
    page.goto(f"{live_server.url}{application.get_absolute_url()}")
    assert "补正中" in page.inner_text("main")
    take(page, "supplement", note="已重新上传")
    assert page.locator('[data-testid="state"]').inner_text() == "审核中"

    browser_sign_in(page, officer, live_server)
    page.goto(f"{live_server.url}{application.get_absolute_url()}")
    take(page, "approve", comment="材料齐全")
    take(page, "issue", delivery="网上告知")
    assert page.locator('[data-testid="state"]').inner_text() == "已办结"

    browser_sign_in(page, citizen, live_server)
    page.goto(f"{live_server.url}/services/mine/")
    assert "已办结" in page.inner_text("main")


def test_counter_mode_registers_a_walk_in_and_completes_it(page, live_server):
    walk_in = factories.citizen("370102", name="王五", home_org_code="370102001")
    officer = factories.staff("370102001", ["counter_officer"], name="张伟")
    service = samples.pick(
        lambda s: (
            s.workflow == "service_instant"
            and "counter" in s.channels
            and s.handled_at == "station"
            and not s.documents
        )
    )
    browser_sign_in(page, officer, live_server)
    page.goto(f"{live_server.url}/services/counter/")
    page.fill('[data-testid="id-number"]', walk_in.citizen.id_number)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert "王五" in page.inner_text("main")
    assert walk_in.citizen.id_number not in page.inner_text("main")  # shown masked
    page.goto(f"{live_server.url}/services/counter/{service.code}/?id_number={walk_in.citizen.id_number}")
    fill_form(page, service.form)
    page.click('[data-testid="counter-create"]')
    page.wait_for_url(re.compile(r"/check/$"))
    page.click('[data-testid="submit"]')
    page.wait_for_url(re.compile(r"/submitted/$"))
    page.goto(f"{live_server.url}{Application.objects.get(applicant=walk_in).get_absolute_url()}")
    page.click('[data-testid="counter-complete"]')
    page.wait_for_load_state()
    assert page.locator('[data-testid="state"]').inner_text() == "已办结"
