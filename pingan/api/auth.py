"""How API callers prove who they are.

- Tokens (knox, hashed at rest, optional expiry) for integrations; an operator issues
  them with ``manage.py api_token``. A token is a credential on its own: it does not ask
  for the staff second factor (TOTP) — that is by design, and why only operators create them.
- The browser session for the site's own pages and the API docs, with CSRF enforced on
  unsafe methods; a staff session counts only once its second factor is verified (outside
  demo mode), exactly as for the pages.

Both put the identified user into the actor context, so what a token holder does is
attributed to them on the timeline.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext_lazy as _
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from pingan.core import context

# knox tokens are hex strings (plus an optional short prefix); anything else is refused
# before it reaches a database lookup.
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,200}$")


class TokenAuthentication(KnoxTokenAuthentication):
    """``Authorization: Token <token>``."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        parts = authentication.get_authorization_header(request).split()
        if parts and parts[0].lower() == self.authenticate_header(request).encode().lower() and len(parts) == 2:
            try:
                token = parts[1].decode("ascii")
            except UnicodeDecodeError:
                token = ""
            if not TOKEN_PATTERN.match(token):
                raise exceptions.AuthenticationFailed(_("令牌无效。"))
        result = super().authenticate(request)
        if result is not None:
            context.set_user(result[0])
        return result


class SessionAuthentication(authentication.SessionAuthentication):
    """The signed-in browser session (CSRF enforced by DRF for unsafe methods)."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        result = super().authenticate(request)
        if result is None:
            return None
        from pingan.accounts.signin import second_factor_missing  # late: DRF loads this module early

        if second_factor_missing(request._request):
            # Half signed in (password only): the API treats the caller as anonymous.
            return None
        context.set_user(result[0])
        return result
