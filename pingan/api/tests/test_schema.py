"""The committed OpenAPI schema, the served schema and the CSP-safe Swagger UI."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command
from django.utils import translation

pytestmark = pytest.mark.django_db

COMMITTED = Path(settings.BASE_DIR) / "docs" / "api" / "openapi.yaml"


def test_the_committed_schema_is_what_the_code_generates(tmp_path):
    fresh = tmp_path / "openapi.yaml"
    with translation.override(settings.LANGUAGE_CODE):
        # --fail-on-warn: an endpoint the generator cannot fully describe fails here too.
        call_command("spectacular", "--file", str(fresh), "--validate", "--fail-on-warn")
    assert fresh.read_text(encoding="utf-8") == COMMITTED.read_text(encoding="utf-8"), (
        "docs/api/openapi.yaml is stale: run `make schema` and commit it"
    )


def test_every_operation_documents_the_error_format():
    schema = yaml.safe_load(COMMITTED.read_text(encoding="utf-8"))
    operations = [(path, method, op) for path, item in schema["paths"].items() for method, op in item.items()]
    assert {path for path, _, _ in operations} >= {
        "/api/v1/orgs/",
        "/api/v1/orgs/{code}/",
        "/api/v1/me/",
        "/api/v1/staff/",
        "/api/v1/staff/{badge}/",
        "/api/v1/citizens/{id}/",
        "/api/v1/citizens/lookup/",
        "/api/v1/citizens/{id}/reveal/",
        "/api/v1/timeline/",
    }
    for path, method, op in operations:
        for status in ("400", "401", "403", "404"):
            content = op["responses"][status]["content"]["application/json"]["schema"]
            assert content == {"$ref": "#/components/schemas/Error"}, (path, method, status)
        if method == "post":
            assert {"413", "415"} <= set(op["responses"]), (path, method)


def test_the_schema_is_served(anonymous):
    response = anonymous.get("/api/schema/")
    assert response.status_code == 200
    served = yaml.safe_load(response.content)
    assert served["info"]["title"] == "Pingan API"
    assert "/api/v1/orgs/" in served["paths"]


def test_swagger_ui_has_no_inline_script_or_style(anonymous):
    response = anonymous.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "'unsafe-inline'" not in csp
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", page, flags=re.S)
    assert len(scripts) == 3
    for attributes, body in scripts:
        assert 'src="' in attributes
        assert body.strip() == ""
    assert "<style" not in page
    assert "style=" not in page
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "/static/api/swagger.css" in page


def test_swagger_ui_assets_come_from_this_server(anonymous):
    page = anonymous.get("/api/docs/").content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources
    assert all(source.startswith("/") and not source.startswith("//") for source in sources)
    init = next(source for source in sources if "script=" in source)
    script = anonymous.get(init.replace("&amp;", "&"))
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in script.content.decode()
    bundle = anonymous.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert bundle.status_code == 200
    bundle.close()
