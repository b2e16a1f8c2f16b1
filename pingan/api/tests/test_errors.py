"""One error format for every API error, in the user's language."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils import translation
from rest_framework import exceptions

from pingan.api import errors
from pingan.api.tests.conftest import JINAN_STATION, error_of, token_client
from pingan.core import access, workflow
from pingan.core.tests.workflowapp.models import Ticket
from pingan.testing import factories

NOT_FOUND = "未找到该记录，或您无权查看。"


def handle(exc: Exception) -> tuple[int, dict]:
    with translation.override("zh-hans"):
        response = errors.exception_handler(exc, {})
        return response.status_code, response.data["error"]


# --- The mapping, unit by unit ------------------------------------------------------------------


def test_drf_validation_errors_put_fields_under_fields():
    status, error = handle(
        exceptions.ValidationError(
            {"name": ["必填"], "items": [{"qty": ["太大"]}, {}], "non_field_errors": ["整体有误"]}
        )
    )
    assert status == 400
    assert error == {"code": "invalid", "message": "整体有误", "fields": {"name": ["必填"], "items.0.qty": ["太大"]}}


def test_a_list_validation_error_becomes_the_message():
    assert handle(exceptions.ValidationError(["一", "二"])) == (400, {"code": "invalid", "message": "一 二"})


def test_django_validation_errors():
    status, error = handle(DjangoValidationError({"phone": ["手机号码格式不正确。"], "__all__": ["请核对。"]}))
    assert status == 400
    assert error == {"code": "invalid", "message": "请核对。", "fields": {"phone": ["手机号码格式不正确。"]}}
    status, error = handle(DjangoValidationError("身份证号码应为18位。", code="length"))
    assert (status, error) == (400, {"code": "length", "message": "身份证号码应为18位。"})


def test_access_denied_404_is_exactly_not_found():
    hidden = handle(access.AccessDenied(access.Decision(False, "a reason that must not show", status=404)))
    assert hidden == handle(exceptions.NotFound()) == handle(Http404("detail that must not show"))
    assert hidden == (404, {"code": "not_found", "message": NOT_FOUND})


def test_access_denied_403_gives_the_reason():
    decision = access.Decision(False, "审计岗位只能查看，不能办理。", status=403)
    assert handle(access.AccessDenied(decision)) == (
        403,
        {"code": "permission_denied", "message": "审计岗位只能查看，不能办理。"},
    )


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (exceptions.NotAuthenticated(), 401, "not_authenticated"),
        (exceptions.AuthenticationFailed(), 401, "authentication_failed"),
        (exceptions.PermissionDenied(), 403, "permission_denied"),
        (PermissionDenied("页面不可用"), 403, "permission_denied"),
        (exceptions.MethodNotAllowed("PUT"), 405, "method_not_allowed"),
        (exceptions.NotAcceptable(), 406, "not_acceptable"),
        (exceptions.UnsupportedMediaType("text/xml"), 415, "unsupported_media_type"),
        (exceptions.Throttled(wait=3), 429, "throttled"),
        (exceptions.ParseError(), 400, "parse_error"),
        (errors.RequestTooLarge(), 413, "request_too_large"),
        (RequestDataTooBig(), 413, "request_too_large"),
        (SuspiciousOperation("bad"), 400, "parse_error"),
        (errors.StaleVersion(), 409, "stale_version"),
        (errors.PreconditionRequired(), 428, "version_required"),
    ],
)
def test_every_4xx_has_the_format(exc, status, code):
    got_status, error = handle(exc)
    assert got_status == status
    assert error["code"] == code
    assert error["message"]


def test_throttled_says_when_to_retry():
    response = errors.exception_handler(exceptions.Throttled(wait=3), {})
    assert response["Retry-After"] == "3"


def test_unexpected_errors_are_logged_and_reveal_nothing(caplog):
    status, error = handle(RuntimeError("secret internal detail"))
    assert (status, error) == (500, {"code": "server_error", "message": "系统出现错误，已记录。请稍后重试。"})
    assert "secret internal detail" in caplog.text
    assert caplog.records[-1].levelname == "ERROR"


# --- The workflow engine's real errors --------------------------------------------------------------


def test_workflow_errors_map_to_their_http_status():
    assert handle(workflow.IllegalTransition("此事项当前状态不能办理该操作")) == (
        409,
        {"code": "illegal_transition", "message": "此事项当前状态不能办理该操作"},
    )
    assert handle(workflow.Conflict("已被他人处理")) == (409, {"code": "conflict", "message": "已被他人处理"})
    status, error = handle(workflow.InputInvalid({"note": ["不能为空"], "__all__": ["整体"]}))
    assert status == 400
    assert error["code"] == "input_invalid"
    assert error["fields"] == {"note": ["不能为空"]}
    assert handle(workflow.GuardFailed("ready", "材料尚未齐全，不能领取。")) == (
        409,
        {"code": "guard_failed", "message": "材料尚未齐全，不能领取。"},
    )
    # The engine declares its own status for this one (403: refused on this channel).
    status, error = handle(workflow.InPersonRequired("需要本人到场"))
    assert (status, error["code"]) == (workflow.InPersonRequired.status, "in_person_required")


def test_workflow_errors_without_a_declared_status_use_the_table(monkeypatch):
    monkeypatch.delattr(workflow.WorkflowError, "status")
    monkeypatch.setattr(workflow.InPersonRequired, "status", None)
    assert handle(workflow.InPersonRequired("需要本人到场"))[0] == 409
    assert handle(workflow.GuardFailed("g", "不满足"))[0] == 409


def test_the_handler_works_without_the_engine(monkeypatch):
    monkeypatch.setattr(errors, "workflow_module", lambda: None)
    status, _error = handle(workflow.Conflict("x"))
    assert status == 500  # unknown to the handler, so a bug: logged, generic answer


@pytest.mark.django_db
@pytest.mark.urls("pingan.api.tests.urls")
class TestWorkflowErrorsOverHTTP:
    """Real transitions refused by the engine, through an API view."""

    @pytest.fixture
    def ticket(self, resident):
        return Ticket.objects.create(org=factories.org(JINAN_STATION), owner=resident, title="户口迁移")

    def post(self, user, ticket, action, data=None, version=None):
        body = {"action": action, **({"data": data} if data is not None else {})}
        return token_client(user).post(
            f"/test-api/tickets/{ticket.pk}/transition/",
            body,
            format="json",
            HTTP_IF_MATCH=f'"{ticket.version if version is None else version}"',
        )

    def test_input_invalid(self, officer, ticket):
        response = self.post(officer, ticket, "open", {"note": ""})
        assert response.status_code == 400
        error = error_of(response)
        assert error["code"] == "input_invalid"
        assert list(error["fields"]) == ["note"]

    def test_illegal_transition(self, officer, ticket):
        response = self.post(officer, ticket, "approve")
        assert response.status_code == 409
        assert error_of(response)["code"] == "illegal_transition"

    def test_in_person_required_then_guard(self, officer, ticket):
        assert self.post(officer, ticket, "open", {"note": "受理"}).status_code == 200
        ticket.refresh_from_db()
        response = self.post(officer, ticket, "collect")
        assert response.status_code == workflow.InPersonRequired.status
        assert error_of(response)["code"] == "in_person_required"

    def test_wrong_role_is_403_with_the_reason(self, resident, ticket, officer):
        response = self.post(resident, ticket, "open", {"note": "受理"})
        assert response.status_code == 403
        assert "窗口民警" in error_of(response)["message"]


# --- End to end ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_messages_follow_accept_language(anonymous):
    chinese = anonymous.get("/api/v1/me/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    english = anonymous.get("/api/v1/me/", HTTP_ACCEPT_LANGUAGE="en")
    assert error_of(chinese) == {"code": "not_authenticated", "message": "身份认证信息未提供。"}
    assert error_of(english) == {
        "code": "not_authenticated",
        "message": "Authentication credentials were not provided.",
    }
    assert english["Content-Language"] == "en"
    assert english["WWW-Authenticate"] == "Token"


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
@pytest.mark.parametrize("path", ["/api/v2/orgs/", "/api/v1/nothing/", "/api/", "/api/v1/orgs/37/extra/"])
def test_unknown_api_paths_are_json_404(anonymous, method, path):
    response = getattr(anonymous, method)(path)
    assert response.status_code == 404
    assert error_of(response) == {"code": "not_found", "message": NOT_FOUND}


@pytest.mark.django_db
@pytest.mark.urls("pingan.api.tests.urls")
def test_an_unexpected_error_in_a_view_is_a_generic_500(officer, caplog):
    response = token_client(officer).get("/test-api/raise/")
    assert response.status_code == 500
    assert error_of(response)["code"] == "server_error"
    assert b"secret" not in response.content
    assert "secret internal detail" in caplog.text


@pytest.mark.django_db
@pytest.mark.urls("pingan.api.tests.urls")
@pytest.mark.parametrize(
    ("what", "status", "expected"),
    [
        (
            "django_validation",
            400,
            {"code": "invalid", "message": "请检查后重试。", "fields": {"phone": ["手机号码格式不正确。"]}},
        ),
        ("denied_403", 403, {"code": "permission_denied", "message": "审计岗位只能查看，不能办理。"}),
        ("denied_404", 404, {"code": "not_found", "message": NOT_FOUND}),
    ],
)
def test_errors_raised_in_views(officer, what, status, expected):
    response = token_client(officer).get("/test-api/raise/", {"what": what})
    assert response.status_code == status
    assert error_of(response) == expected
