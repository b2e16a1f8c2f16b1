"""Placeholder views, replaced by the accounts work (login with TOTP, signup)."""

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST


def login_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("login")


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("site:home")


def signup_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("signup")


def lockout_response(request, credentials, *args, **kwargs) -> HttpResponse:
    return HttpResponse(status=429)
