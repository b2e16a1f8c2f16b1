"""Sign-in (password, then TOTP for staff), sign-up, "my account", the staff directory and
the citizen lookup. Thin: every write is an ``actions`` call, every read a ``queries`` call.

Refused input re-renders the form with its messages and status 400; refused access is a
403 page with the reason, or 404 when the user may not know the record exists.
"""

from __future__ import annotations

import base64
import math
import re
from base64 import b32encode
from typing import Any, NoReturn
from urllib.parse import urlencode

import django_otp
import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME, authenticate, update_session_auth_hash
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from pingan.accounts import actions, forms, queries, signin
from pingan.accounts.decorators import staff_required
from pingan.accounts.models import CitizenProfile, Kind, StaffProfile, User
from pingan.core import access, timeline
from pingan.core.catalog import roles as role_catalog
from pingan.core.identity import mask_name, mask_phone, mask_resident_id

BACKEND = "pingan.accounts.backends.PingAnBackend"
BADGE = re.compile(r"[0-9]{6}")
STAFF_PAGE_SIZE = 25
# Who may look citizens up by ID number: the counter, the station chief, and auditors
# (who see masked data and cannot reveal it).
LOOKUP_ROLES = frozenset({"counter_officer", "station_chief", "auditor"})


def _denied(error: access.AccessDenied) -> NoReturn:
    """Turn an access refusal into the page the user should see (404 hides existence)."""
    if error.decision.status == 404:
        raise Http404(error.decision.reason)
    raise PermissionDenied(error.decision.reason)


def _with_next(url: str, next_url: str) -> str:
    return f"{url}?{urlencode({REDIRECT_FIELD_NAME: next_url})}" if next_url else url


# --- Sign-in ------------------------------------------------------------------------


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = signin.next_from(request)
    if request.method == "GET" and request.user.is_authenticated:
        if signin.second_factor_missing(request):
            return HttpResponseRedirect(_with_next(reverse("accounts:otp"), next_url))
        return HttpResponseRedirect(next_url or signin.home_url_for(request.user))
    form = forms.LoginForm(request.POST) if request.method == "POST" else forms.LoginForm()
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            identifier, password = form.cleaned_data["username"], form.cleaned_data["password"]
            user = authenticate(request, username=identifier, password=password)
            if getattr(request, "axes_locked_out", False):
                actions.signin_record_failure(reason="locked_out", identifier=identifier)
                return lockout_response(request, None, {"username": identifier})
            if user is None:
                actions.signin_record_failure(reason="bad_credentials", identifier=identifier)
                form.add_error(None, _("账号或密码不正确。"))
            elif signin.second_factor_required(user):
                if request.user.is_authenticated:
                    auth_logout(request)
                signin.pending_start(request, user, next_url=next_url)
                return redirect("accounts:otp")
            else:
                auth_login(request, user)
                actions.signin_record_success(user=user)
                if user.kind == Kind.STAFF and queries.totp_device_of(user) is None:
                    messages.info(request, _("演示模式下民警登录不要求动态口令。建议在“我的账号”中设置动态口令。"))
                return HttpResponseRedirect(next_url or signin.home_url_for(user))
    context = {"form": form, "next": next_url}
    return render(request, "accounts/login.html", context, status=status)


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: too many failures for this account from this address."""
    retry_at = signin.lockout_until(request, credentials)
    seconds = max(1, math.ceil((retry_at - timezone.now()).total_seconds()))
    context = {"retry_at": timezone.localtime(retry_at), "minutes": max(1, math.ceil(seconds / 60))}
    response = render(request, "accounts/lockout.html", context, status=429)
    response["Retry-After"] = str(seconds)
    return response


def _second_factor_subject(request: HttpRequest) -> tuple[User | None, bool]:
    """Whose second factor this is, and whether they are signed in already (demo mode,
    or a session from before demo mode was switched off)."""
    if request.user.is_authenticated:
        return (request.user, True) if request.user.kind == Kind.STAFF else (None, True)
    return signin.pending_user(request), False


def _complete_second_factor(request: HttpRequest, user: User, device: TOTPDevice) -> HttpResponse:
    pending = signin.pending_clear(request) or {}
    if request.user.is_authenticated:
        request.session.cycle_key()  # more rights now: a new session id
    else:
        auth_login(request, user, backend=pending.get("backend") or BACKEND)
    django_otp.login(request, device)
    actions.signin_record_success(user=user, second_factor="totp")
    next_url = signin.safe_next(request, pending.get("next")) or signin.next_from(request)
    return HttpResponseRedirect(next_url or signin.home_url_for(user))


def _token_refused(form: forms.TokenForm, check: actions.TokenCheck) -> None:
    if check.throttled_until is not None:
        seconds = max(1, math.ceil((check.throttled_until - timezone.now()).total_seconds()))
        form.add_error("token", _("动态口令错误次数过多，请在 %(seconds)s 秒后再试。") % {"seconds": seconds})
    else:
        form.add_error("token", _("动态口令不正确或已使用过，请输入验证器当前显示的6位数字。"))


@sensitive_post_parameters("token")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def otp_view(request: HttpRequest) -> HttpResponse:
    """Second step of a staff sign-in: the token of their confirmed TOTP device."""
    user, signed_in = _second_factor_subject(request)
    if user is None:
        if signed_in:
            return HttpResponseRedirect(signin.home_url_for(request.user))
        messages.info(request, _("请先输入账号和密码。"))
        return redirect_to_login(signin.next_from(request) or reverse("site:home"))
    if signed_in and not signin.second_factor_missing(request):
        return HttpResponseRedirect(signin.next_from(request) or signin.home_url_for(user))
    device = queries.totp_device_of(user)
    if device is None:
        return HttpResponseRedirect(_with_next(reverse("accounts:otp_setup"), signin.next_from(request)))
    form = forms.TokenForm(request.POST) if request.method == "POST" else forms.TokenForm()
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            check = actions.totp_token_check(user=user, device=device, token=form.cleaned_data["token"])
            if check.ok:
                return _complete_second_factor(request, user, check.device)
            _token_refused(form, check)
            if not signed_in and signin.pending_failed(request):
                messages.error(request, _("动态口令错误次数过多，请重新输入账号和密码。"))
                return redirect("accounts:login")
    return render(request, "accounts/otp.html", {"form": form, "staff_user": user}, status=status)


def totp_qr_data_uri(device: TOTPDevice) -> str:
    """The device's provisioning URL as an SVG QR code in a data: URI (CSP allows img data:)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    svg = image.to_string(encoding="unicode")
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def totp_secret_text(device: TOTPDevice) -> str:
    secret = b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@sensitive_post_parameters("token")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def otp_setup_view(request: HttpRequest) -> HttpResponse:
    """Set up (or replace) a staff member's TOTP device: scan, then confirm with a token."""
    user, signed_in = _second_factor_subject(request)
    if user is None:
        if signed_in:
            raise PermissionDenied(_("只有民警账号需要设置动态口令。"))
        messages.info(request, _("请先输入账号和密码。"))
        return redirect_to_login(reverse("accounts:otp_setup"))
    has_device = queries.totp_device_of(user) is not None
    # Replacing a device needs the old one first (or an administrator's reset).
    if has_device and (not signed_in or signin.second_factor_missing(request)):
        return HttpResponseRedirect(_with_next(reverse("accounts:otp"), signin.next_from(request)))
    device = actions.totp_device_prepare(user=user)
    form = forms.TokenForm(request.POST) if request.method == "POST" else forms.TokenForm()
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            check = actions.totp_token_check(user=user, device=device, token=form.cleaned_data["token"])
            if check.ok:
                messages.success(request, _("动态口令已启用。以后登录时请输入验证器显示的6位数字。"))
                if not signed_in or signin.second_factor_missing(request):
                    return _complete_second_factor(request, user, check.device)
                django_otp.login(request, check.device)  # the old device is gone; keep this session verified
                return redirect("accounts:me")
            _token_refused(form, check)
            if not signed_in and signin.pending_failed(request):
                messages.error(request, _("动态口令错误次数过多，请重新输入账号和密码。"))
                return redirect("accounts:login")
    context = {
        "form": form,
        "qr": totp_qr_data_uri(device),
        "secret": totp_secret_text(device),
        "replacing": has_device,
        "issuer": getattr(settings, "OTP_TOTP_ISSUER", ""),
        "staff_user": user,
    }
    return render(request, "accounts/otp_setup.html", context, status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        actions.signout_record(user=request.user)
    auth_logout(request)
    messages.info(request, _("您已安全退出。"))
    return redirect(settings.LOGOUT_REDIRECT_URL)


# --- Sign-up ------------------------------------------------------------------------


def _already_registered(error: ValidationError) -> bool:
    """The form checked the formats, so errors on these fields mean "already registered"."""
    return (
        hasattr(error, "error_dict")
        and "id_number" in error.message_dict
        and set(error.message_dict)
        <= {
            "id_number",
            "phone",
        }
    )


@sensitive_post_parameters("password1", "password2")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def signup_view(request: HttpRequest) -> HttpResponse:
    """Real-name sign-up of a citizen; signs them in and opens "my account"."""
    if request.user.is_authenticated:
        if request.method == "POST":
            messages.info(request, _("您已登录，无需再次注册。"))
        return HttpResponseRedirect(signin.home_url_for(request.user))
    form = forms.SignupForm(request.POST) if request.method == "POST" else forms.SignupForm()
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                user = actions.citizen_register(
                    name=data["name"],
                    id_number=data["id_number"],
                    phone=data["phone"],
                    password=data["password1"],
                    home_org=form.home_org(),
                )
            except ValidationError as error:
                # A double submit: the first request registered this person with this password.
                if _already_registered(error):
                    existing = authenticate(request, username=data["id_number"], password=data["password1"])
                    if existing is not None and existing.kind == Kind.CITIZEN:
                        auth_login(request, existing)
                        actions.signin_record_success(user=existing)
                        messages.info(request, _("该身份证号码已注册，已为您登录。"))
                        return redirect("accounts:me")
                form.add_error(None, error)
            else:
                auth_login(request, user, backend=BACKEND)
                actions.signin_record_success(user=user)
                messages.success(request, _("注册成功。"))
                return redirect("accounts:me")
    return render(request, "accounts/signup.html", {"form": form}, status=status)


# --- My account ------------------------------------------------------------------------


def _account_guard(request: HttpRequest) -> HttpResponse | None:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if signin.second_factor_missing(request):
        return HttpResponseRedirect(_with_next(reverse("accounts:otp"), request.get_full_path()))
    return None


def _citizen_identity(profile: CitizenProfile, revealed: dict[str, str] | None = None) -> dict[str, Any]:
    if revealed is not None:
        return {"name": revealed["name"], "id_number": revealed["id_number"], "phone": revealed["phone"], "full": True}
    return {
        "name": mask_name(profile.user.name),
        "id_number": mask_resident_id(profile.id_number),
        "phone": mask_phone(profile.phone),
        "full": False,
    }


def _posts_display(posts: list[Any]) -> list[dict[str, Any]]:
    catalog = role_catalog()
    return [
        {"post": post, "unit": post.org, "role": catalog[post.role].name if post.role in catalog else post.role}
        for post in posts
    ]


def _me_context(request: HttpRequest, revealed: dict[str, str] | None = None) -> dict[str, Any]:
    user = request.user
    context: dict[str, Any] = {"account": user}
    if user.kind == Kind.CITIZEN:
        profile = CitizenProfile.objects.select_related("home_org", "user").get(user=user)
        context.update(profile=profile, identity=_citizen_identity(profile, revealed))
    elif user.kind == Kind.STAFF:
        staff = StaffProfile.objects.select_related("home_org").filter(user=user).first()
        posts = list(user.posts.filter(is_active=True).select_related("org").order_by("org__path", "role"))
        context.update(
            staff=staff,
            posts=_posts_display(posts),
            totp_device=queries.totp_device_of(user),
            totp_required=signin.second_factor_required(user),
        )
    elif user.kind == Kind.PARTNER:
        context.update(partner=getattr(user, "partner", None))
    return context


@never_cache
@require_http_methods(["GET"])
def me_view(request: HttpRequest) -> HttpResponse:
    refusal = _account_guard(request)
    if refusal is not None:
        return refusal
    return render(request, "accounts/me.html", _me_context(request))


@never_cache
@require_POST
def me_reveal_view(request: HttpRequest) -> HttpResponse:
    """A citizen shows their own full name, ID number and mobile (the reveal is logged)."""
    refusal = _account_guard(request)
    if refusal is not None:
        return refusal
    if request.user.kind != Kind.CITIZEN:
        raise PermissionDenied(_("此操作仅供群众使用。"))
    profile = CitizenProfile.objects.select_related("home_org", "user").get(user=request.user)
    try:
        revealed = actions.personal_data_reveal(
            viewer=request.user, profile=profile, fields=("name", "id_number", "phone")
        )
    except access.AccessDenied as error:
        return _reveal_refused(request, profile, error)
    if request.htmx:
        return render(request, "accounts/partials/_identity.html", {"identity": _citizen_identity(profile, revealed)})
    return render(request, "accounts/me.html", _me_context(request, revealed))


@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def password_view(request: HttpRequest) -> HttpResponse:
    refusal = _account_guard(request)
    if refusal is not None:
        return refusal
    form = forms.PasswordChangeForm(request.POST) if request.method == "POST" else forms.PasswordChangeForm()
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                user = actions.password_change(
                    user=request.user,
                    old_password=form.cleaned_data["old_password"],
                    new_password=form.cleaned_data["new_password1"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                update_session_auth_hash(request, user)  # stay signed in here; other sessions end
                messages.success(request, _("密码已修改。"))
                return redirect("accounts:me")
    return render(request, "accounts/password.html", {"form": form}, status=status)


# --- Staff directory and management -------------------------------------------------------


@never_cache
@require_http_methods(["GET"])
@staff_required()
def staff_list_view(request: HttpRequest) -> HttpResponse:
    form = forms.StaffFilterForm(request.GET)
    status = 200
    page = None
    if form.is_valid():
        staff = queries.staff_directory_for(
            request.user, unit=form.cleaned_data["unit"], role=form.cleaned_data["role"] or None
        )
        page = Paginator(staff, STAFF_PAGE_SIZE).get_page(request.GET.get("page"))
    else:
        status = 400
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "rows": [{"staff": member, "posts": _posts_display(member.user.active_posts)} for member in page or []],
        "query": query.urlencode(),
        "can_create": _holds(request.user, {"administrator"}),
    }
    return render(request, "accounts/staff_list.html", context, status=status)


def _holds(user: Any, roles: set[str]) -> bool:
    return any(post.role in roles for post in access.posts_of(user))


def _staff_or_404(request: HttpRequest, badge_number: str) -> StaffProfile:
    if not BADGE.fullmatch(badge_number):
        raise Http404(_("未找到该记录，或您无权查看。"))
    try:
        return queries.staff_get(request.user, badge_number)
    except StaffProfile.DoesNotExist:
        raise Http404(_("未找到该记录，或您无权查看。")) from None


def _staff_detail(
    request: HttpRequest, staff: StaffProfile, *, post_form: forms.PostAddForm | None = None, status: int = 200
) -> HttpResponse:
    manage = bool(access.check(request.user, "act", staff, role="administrator"))
    posts = _posts_display(staff.user.active_posts)
    for row in posts:
        row["can_end"] = manage and bool(access.check(request.user, "act", row["post"], role="administrator"))
    context = {
        "staff": staff,
        "posts": posts,
        "manage": manage,
        "post_form": post_form or forms.PostAddForm(),
        "totp_device": queries.totp_device_of(staff.user) if manage else None,
    }
    return render(request, "accounts/staff_detail.html", context, status=status)


@never_cache
@require_http_methods(["GET"])
@staff_required()
def staff_detail_view(request: HttpRequest, badge_number: str) -> HttpResponse:
    return _staff_detail(request, _staff_or_404(request, badge_number))


@sensitive_post_parameters("password1", "password2")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
@staff_required(roles={"administrator"})
def staff_create_view(request: HttpRequest) -> HttpResponse:
    form = forms.StaffCreateForm(request.POST) if request.method == "POST" else forms.StaffCreateForm()
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                user = actions.staff_create(
                    badge_number=data["badge_number"],
                    name=data["name"],
                    home_org=data["unit"],
                    roles=data["roles"],
                    password=data["password1"],
                    actor=request.user,
                )
            except access.AccessDenied:
                form.add_error("unit", _("该单位不在您的管辖范围内，您不能在此单位创建民警账号。"))
                status = 403
            except ValidationError as error:
                field = "badge_number" if error.code in {"badge", "badge_taken"} else None
                form.add_error(field, error)
            else:
                messages.success(request, _("已创建民警账号 %(badge)s。") % {"badge": user.username})
                return redirect("accounts:staff_detail", badge_number=user.username)
    return render(request, "accounts/staff_create.html", {"form": form}, status=status)


@csrf_protect
@require_POST
@staff_required(roles={"administrator"})
def post_add_view(request: HttpRequest, badge_number: str) -> HttpResponse:
    staff = _staff_or_404(request, badge_number)
    form = forms.PostAddForm(request.POST)
    if not form.is_valid():
        return _staff_detail(request, staff, post_form=form, status=400)
    try:
        actions.post_add(
            user=staff.user, org=form.cleaned_data["unit"], role=form.cleaned_data["role"], actor=request.user
        )
    except access.AccessDenied:
        form.add_error("unit", _("该单位不在您的管辖范围内，您不能在此单位任命岗位。"))
        return _staff_detail(request, staff, post_form=form, status=403)
    except ValidationError as error:
        form.add_error(None, error)
        return _staff_detail(request, staff, post_form=form, status=400)
    messages.success(request, _("已添加岗位。"))
    return redirect("accounts:staff_detail", badge_number=staff.badge_number)


@csrf_protect
@require_POST
@staff_required(roles={"administrator"})
def post_end_view(request: HttpRequest, badge_number: str, post_id: int) -> HttpResponse:
    staff = _staff_or_404(request, badge_number)
    post = next((post for post in staff.user.active_posts if post.pk == post_id), None)
    if post is None:
        raise Http404(_("未找到该岗位。"))
    try:
        actions.post_end(post=post, actor=request.user)
    except access.AccessDenied as error:
        _denied(error)
    messages.success(request, _("已结束岗位。"))
    return redirect("accounts:staff_detail", badge_number=staff.badge_number)


@csrf_protect
@require_POST
@staff_required(roles={"administrator"})
def totp_reset_view(request: HttpRequest, badge_number: str) -> HttpResponse:
    staff = _staff_or_404(request, badge_number)
    try:
        actions.totp_device_reset(user=staff.user, actor=request.user)
    except access.AccessDenied as error:
        _denied(error)
    messages.success(request, _("已重置该民警的动态口令；其下次登录时需重新设置。"))
    return redirect("accounts:staff_detail", badge_number=staff.badge_number)


# --- Citizen lookup (counter) ---------------------------------------------------------------


def _citizen_card(request: HttpRequest, profile: CitizenProfile, revealed: dict[str, str] | None) -> dict[str, Any]:
    can_reveal = access.can_unmask(request.user, profile)
    return {
        "profile": profile,
        "identity": _citizen_identity(profile, revealed),
        "reveal_url": reverse("accounts:citizen_reveal", args=[profile.pk]) if can_reveal else None,
    }


def _reveal_refused(request: HttpRequest, profile: CitizenProfile, error: access.AccessDenied) -> HttpResponse:
    """An htmx reveal that is refused: the card again, with the reason (else the error page)."""
    if not request.htmx:
        _denied(error)
    context = {"identity": _citizen_identity(profile), "refusal": error.decision.reason}
    return render(request, "accounts/partials/_identity.html", context, status=error.decision.status)


@sensitive_post_parameters("id_number")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
@staff_required(roles=LOOKUP_ROLES)
def citizen_lookup_view(request: HttpRequest) -> HttpResponse:
    """Find a citizen by ID number (POST: the number never goes into a URL or a log line)."""
    form = forms.CitizenLookupForm(request.POST) if request.method == "POST" else forms.CitizenLookupForm()
    status, result, searched = 200, None, False
    if request.method == "POST":
        if form.is_valid():
            searched = True
            profile = queries.citizen_by_id_number(request.user, form.cleaned_data["id_number"])
            if profile is None:
                status = 404
            else:
                timeline.record_read(
                    profile, fields=["name", "id_number", "phone"], actor=request.user, purpose="lookup"
                )
                result = _citizen_card(request, profile, None)
        else:
            status = 400
    context = {"form": form, "result": result, "searched": searched}
    return render(request, "accounts/citizen_lookup.html", context, status=status)


@never_cache
@require_POST
@staff_required(roles=LOOKUP_ROLES)
def citizen_reveal_view(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        profile = queries.citizen_get(request.user, pk)
    except CitizenProfile.DoesNotExist:
        raise Http404(_("未找到该记录，或您无权查看。")) from None
    try:
        revealed = actions.personal_data_reveal(
            viewer=request.user, profile=profile, fields=("name", "id_number", "phone")
        )
    except access.AccessDenied as error:
        return _reveal_refused(request, profile, error)
    card = _citizen_card(request, profile, revealed)
    if request.htmx:
        return render(request, "accounts/partials/_identity.html", card)
    return render(request, "accounts/citizen_lookup.html", {"form": forms.CitizenLookupForm(), "result": card})
