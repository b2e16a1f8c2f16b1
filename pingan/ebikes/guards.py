"""Workflow guards of the ``ebike`` workflow (registered in ``EbikesConfig.ready()``)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from pingan.ebikes import rules


def still_compliant(item: Any, *, actor: Any, data: Any, transition: Any) -> str | None:
    """A product whose CCC certificate was revoked after pre-registration is not plated."""
    problems = rules.product_problems(item.product)
    if problems:
        return _("不能登记上牌：%(why)s") % {"why": "；".join(problems)}
    return None
