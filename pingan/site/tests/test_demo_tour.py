"""The newcomer's tour of ``make run``: the demo province, each documented demo account
signing in through the real form (demo mode: staff without TOTP), and each seeing what it
may see and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pingan.core import seeding

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def accounts_from(path: Path) -> dict[str, tuple[str, str]]:
    """Credentials file rows: sign-in identifier (first one) and password, by role and unit."""
    rows = {}
    for line in path.read_text().splitlines():
        if "\t" not in line or line.startswith("role\t"):
            continue
        role, unit, sign_in, password = line.split("\t")
        rows[f"{role} {unit}"] = (sign_in.split(" / ")[0], password)
    return rows


def sign_in(page, base: str, identifier: str, password: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", identifier)
    page.fill("#id_password", password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()


def look_up(page, base: str, id_number: str) -> str:
    page.goto(f"{base}/accounts/citizens/lookup/")
    page.fill("#id_id_number", id_number)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    return page.locator("main").inner_text()


def test_every_demo_account_sees_its_own_world(page, live_server, settings, tmp_path):
    settings.DEMO_MODE = True
    credentials = tmp_path / "demo-credentials.txt"
    seeding.run(scale="small", seed=1, progress=False, writer=lambda message: None, credentials_file=credentials)
    people = accounts_from(credentials)
    base = live_server.url

    def account(prefix: str) -> tuple[str, str]:
        return next(value for key, value in people.items() if key.startswith(prefix))

    jinan_id, password = account("群众 (citizen) 济南市公安局")
    qingdao_id, _ = account("群众 (citizen) 青岛市公安局")

    # Provincial administrator: the whole province.
    sign_in(page, base, *account("系统管理员"))
    page.wait_for_url(re.compile(r"/inbox/"))
    page.goto(f"{base}/accounts/staff/?unit=3702")
    assert "青岛市公安局" in page.locator("main").inner_text()

    # Auditor: reads the supervised tasks, takes no action on them.
    sign_in(page, base, *account("审计监督员"))
    page.goto(f"{base}/assignments/")
    page.locator("table a").first.click()
    assert page.locator("form.action-form").count() == 0
    assert "此事项目前无需您办理" in page.locator("main").inner_text()

    # Jinan counter officer: finds the Jinan resident (masked), not the Qingdao one.
    sign_in(page, base, *account("窗口民警 (Counter officer) 济南市公安局"))
    found = look_up(page, base, jinan_id)
    assert "3701**********" in found
    assert jinan_id not in found
    assert "未找到" in look_up(page, base, qingdao_id)

    # Qingdao counter officer: the other way round.
    sign_in(page, base, *account("窗口民警 (Counter officer) 青岛市公安局"))
    assert "3702**********" in look_up(page, base, qingdao_id)
    assert "未找到" in look_up(page, base, jinan_id)

    # Jinan station chief: overdue tasks escalated into "my work".
    sign_in(page, base, *account("所长"))
    page.wait_for_url(re.compile(r"/inbox/"))
    assert page.locator("tr.deadline-overdue").count() >= 1

    # A citizen: their own account, masked; staff pages refused.
    sign_in(page, base, jinan_id, password)
    page.wait_for_url(re.compile(r"/accounts/me/"))
    assert "3701**********" in page.locator("main").inner_text()
    assert page.goto(f"{base}/inbox/").status == 403
    assert page.goto(f"{base}/accounts/staff/").status == 403
