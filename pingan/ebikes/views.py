"""Pages of the e-bike register: the citizen's "my e-bikes", the public plate check, the
staff list, detail and counter look-up, and the dealer's sales and batch imports. Thin:
every read goes through ``queries``, every write through ``actions``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from pingan.accounts.decorators import citizen_required, staff_required
from pingan.core import access, timeline, workflow
from pingan.core.identity import mask_name
from pingan.core.refusals import errors_onto_form
from pingan.ebikes import actions, imports, queries
from pingan.ebikes.forms import PreRegisterForm, UploadForm
from pingan.ebikes.models import CompliantModel, EBike, ImportBatch

CANCEL_REASONS = ("报废", "灭失", "迁出", "被盗未找回", "信息有误", "其他")
INPUT_LABELS = {"reason": "原因", "note": "说明", "place": "地点", "__all__": "输入"}


def dealer_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Authorised dealers only (a partner account with an active dealer record)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        dealer = actions.dealer_of(request.user)
        if dealer is None:
            reason = _("此页面仅供授权的电动自行车经销商使用。")
            timeline.record(
                ("site.page", request.path[:64]),
                "access.denied",
                actor=request.user,
                data={"action": "view", "reason": reason, "status": 403},
            )
            raise PermissionDenied(reason)
        request.dealer = dealer  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapper


def _refusal(error: Exception) -> tuple[str, int]:
    if isinstance(error, access.AccessDenied):
        return error.decision.reason, error.decision.status
    if isinstance(error, workflow.WorkflowError):
        return error.message, error.status
    if isinstance(error, ValidationError):
        return "；".join(error.messages), 400
    raise error


# --- Citizens ---------------------------------------------------------------------------------


@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """ "My e-bikes" for citizens; staff and dealers land on their own pages."""
    kind = access.user_kind(request.user)
    if kind == "anonymous":
        return redirect_to_login(request.get_full_path())
    if kind == "staff":
        return redirect("ebikes:staff_list")
    if kind == "partner":
        return redirect("ebikes:dealer_home")
    claimed = actions.ebikes_claim(citizen=request.user)
    if claimed:
        messages.success(request, _("经销商为您录入的 %(n)s 辆电动自行车已关联到您的账号。") % {"n": claimed})
    return render(
        request,
        "ebikes/mine.html",
        {
            "ebikes": queries.ebikes_for(request.user),
            "transfers": queries.transfers_incoming(request.user),
        },
    )


@require_http_methods(["GET", "POST"])
@citizen_required
def new(request: HttpRequest) -> HttpResponse:
    form = PreRegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ebike = actions.ebike_preregister(actor=request.user, data=form.cleaned_data)
        except ValidationError as error:
            errors_onto_form(form, error)
        else:
            messages.success(request, _("预登记已提交。请携带车辆、购车发票和身份证到就近派出所或销售门店查验上牌。"))
            return redirect(ebike)
    products = CompliantModel.objects.filter(certificate_status="valid").order_by("brand_key", "model_key")
    return render(
        request,
        "ebikes/new.html",
        {"form": form, "brands": sorted({p.brand for p in products}), "models": [p.model for p in products]},
        status=400 if form.errors else 200,
    )


@require_POST
@citizen_required
def transfer_decide(request: HttpRequest, pk: int) -> HttpResponse:
    transfer = queries.transfers_incoming(request.user).filter(pk=pk).first()
    if transfer is None:
        raise Http404(_("未找到该过户，或它已处理。"))
    decision = request.POST.get("decision")
    try:
        if decision == "confirm":
            ebike = actions.ebike_transfer_confirm(transfer=transfer, actor=request.user)
            messages.success(request, _("过户完成：号牌 %(plate)s 已登记在您名下。") % {"plate": ebike.plate})
            return redirect(ebike)
        if decision == "decline":
            actions.ebike_transfer_decline(transfer=transfer, actor=request.user)
            messages.success(request, _("已拒绝该过户。"))
            return redirect("ebikes:mine")
    except (access.AccessDenied, workflow.WorkflowError, ValidationError) as error:
        message, _status = _refusal(error)
        messages.error(request, message)
        return redirect("ebikes:mine")
    messages.error(request, _("请选择确认或拒绝。"))
    return redirect("ebikes:mine")


# --- Anyone: the plate check ----------------------------------------------------------------------


@require_GET
def check(request: HttpRequest) -> HttpResponse:
    """Is this plate valid, or reported stolen? Nothing personal is shown."""
    plate = request.GET.get("plate", "")[:40]
    result = queries.plate_check(plate) if plate.strip() else None
    return render(request, "ebikes/check.html", {"plate": plate, "result": result})


# --- One bicycle ------------------------------------------------------------------------------------


def _get(request: HttpRequest, pk: int) -> EBike:
    try:
        return queries.ebike_get(request.user, pk)
    except EBike.DoesNotExist:
        raise Http404(_("未找到该车辆，或您无权查看。")) from None


def _history(ebike: EBike) -> Any:
    mine = Q(action__startswith="workflow.") | Q(action__startswith="ebikes.")
    return timeline.events_for(ebike).filter(mine).order_by("id")


def _detail_context(request: HttpRequest, ebike: EBike) -> dict[str, Any]:
    kind = access.user_kind(request.user)
    owner_name = ""
    if ebike.owner is not None:
        owner_name = ebike.owner.name if kind == "citizen" else mask_name(ebike.owner.name)
    available = {t.action: t for t in workflow.available_actions(ebike, request.user)}
    return {
        "ebike": ebike,
        "kind": kind,
        "owner_name": owner_name,
        "actions": available,
        "transfer": queries.pending_transfer(ebike),
        "inspections": ebike.inspections.select_related("dealer__partner", "org"),
        "history": _history(ebike) if kind in ("citizen", "staff") else [],
        "cancel_reasons": CANCEL_REASONS,
    }


@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    ebike = _get(request, pk)
    if access.user_kind(request.user) in ("staff", "partner") and ebike.owner_id is not None:
        timeline.record_read(ebike, fields=["owner"], actor=request.user, purpose="view")
    return render(request, "ebikes/detail.html", _detail_context(request, ebike))


def _take(request: HttpRequest, ebike: EBike, action: str, version: int | None) -> str:
    """Run one action from a detail page's form; returns the success message."""
    post = request.POST
    user = request.user
    if action == "inspect":
        actions.ebike_inspect(
            ebike=ebike,
            actor=user,
            passed=post.get("passed", "1") == "1",
            note=post.get("note", ""),
            frame_seen=post.get("frame_seen", ""),
            motor_seen=post.get("motor_seen", ""),
            expected_version=version,
        )
        if ebike.state != "inspected":
            return _("已记录查验不合格。")
        if post.get("register_now") == "1":
            actions.ebike_register(ebike=ebike, actor=user)
            return _("查验合格，已登记上牌：%(plate)s") % {"plate": ebike.plate}
        return _("查验合格。")
    if action == "register":
        actions.ebike_register(ebike=ebike, actor=user)
        return _("已登记上牌：%(plate)s") % {"plate": ebike.plate}
    if action == "reinspect":
        actions.ebike_reinspect(ebike=ebike, actor=user, reason=post.get("reason", ""))
        return _("已退回重新查验。")
    if action == "transfer_start":
        actions.ebike_transfer_start(
            ebike=ebike, actor=user, new_owner_id_number=post.get("new_owner_id_number", ""), expected_version=version
        )
        return _("已发起过户，等待新车主在“我的电动车”中确认。")
    if action == "transfer_cancel":
        transfer = queries.pending_transfer(ebike)
        if transfer is None:
            raise workflow.IllegalTransition(_("没有待确认的过户。"))
        actions.ebike_transfer_cancel(transfer=transfer, actor=user)
        return _("已取消过户。")
    if action == "report_stolen":
        actions.ebike_report_stolen(
            ebike=ebike, actor=user, place=post.get("place", ""), note=post.get("note", ""), expected_version=version
        )
        return _("已报失窃。查询该号牌的人都会看到“已报失窃”。")
    if action == "recover":
        actions.ebike_recover(ebike=ebike, actor=user, note=post.get("note", ""), expected_version=version)
        return _("已登记找回，号牌恢复正常。")
    if action == "cancel":
        actions.ebike_cancel(
            ebike=ebike, actor=user, reason=post.get("reason", ""), note=post.get("note", ""), expected_version=version
        )
        return _("登记已注销，号牌已收回。")
    raise workflow.IllegalTransition(_("未知的操作。"))


@require_POST
def act(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    ebike = _get(request, pk)
    try:
        version: int | None = int(request.POST["version"]) if request.POST.get("version") else None
    except ValueError:
        version = None
    try:
        message = _take(request, ebike, request.POST.get("action", ""), version)
    except (access.AccessDenied, workflow.WorkflowError, ValidationError) as error:
        text, status = _refusal(error)
        if status == 404:
            raise Http404(text) from None
        if isinstance(error, workflow.InputInvalid):
            text = "；".join(
                f"{INPUT_LABELS.get(field, field)}：{'，'.join(problems)}" for field, problems in error.errors.items()
            )
        messages.error(request, text)
        ebike = _get(request, pk)
        return render(request, "ebikes/detail.html", _detail_context(request, ebike), status=status)
    messages.success(request, message)
    return redirect(ebike)


# --- Staff ------------------------------------------------------------------------------------------


@require_GET
@staff_required()
def staff_list(request: HttpRequest) -> HttpResponse:
    wf = EBike.workflow()
    state = request.GET.get("state") or None
    if state not in wf.states:
        state = None
    search = request.GET.get("q", "")[:40]
    items = queries.ebikes_for(request.user, state=state, search=search)
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "states": [(code, wf.state_name(code)) for code in wf.states],
        "filters": {"state": state or "", "q": search},
        "counter": actions.COUNTER_ROLES,
    }
    template = "ebikes/partials/_table.html" if request.htmx else "ebikes/staff_list.html"
    return render(request, template, context)


@require_GET
@staff_required(roles=actions.COUNTER_ROLES)
def counter(request: HttpRequest) -> HttpResponse:
    """A citizen brings the bicycle to the counter: find it by its frame number."""
    frame = request.GET.get("frame", "")[:40]
    ebike = queries.ebike_for_counter(request.user, frame) if frame.strip() else None
    if ebike is not None and queries.ebikes_for(request.user).filter(pk=ebike.pk).exists():
        return redirect(ebike)
    return render(
        request,
        "ebikes/counter.html",
        {"frame": frame, "ebike": ebike, "searched": bool(frame.strip())},
        status=404 if frame.strip() and ebike is None else 200,
    )


@require_POST
@staff_required(roles=actions.COUNTER_ROLES)
def counter_inspect(request: HttpRequest) -> HttpResponse:
    """Inspect (and plate) a bicycle found at the counter: the station takes over its file."""
    ebike = queries.ebike_for_counter(request.user, request.POST.get("frame", ""))
    if ebike is None:
        raise Http404(_("未找到该车辆。"))
    try:
        message = _take(request, ebike, "inspect", None)
    except (access.AccessDenied, workflow.WorkflowError, ValidationError) as error:
        text, status = _refusal(error)
        messages.error(request, text)
        return render(
            request,
            "ebikes/counter.html",
            {"frame": ebike.frame_number, "ebike": ebike, "searched": True},
            status=status,
        )
    messages.success(request, message)
    return redirect(ebike)


# --- Dealers -------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@dealer_required
def dealer_home(request: HttpRequest) -> HttpResponse:
    dealer = request.dealer  # type: ignore[attr-defined]
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > imports.MAX_BYTES:
            form.add_error("file", _("文件不能超过2MB，请分批导入。"))
        else:
            try:
                batch = actions.import_batch(
                    dealer=dealer, actor=request.user, file_name=upload.name, content=upload.read()
                )
            except ValidationError as error:
                for problems in error.message_dict.values():
                    form.add_error("file", problems)
            else:
                messages.success(
                    request,
                    _("导入完成：新建 %(created)s 条，已导入过 %(existing)s 条，有误 %(failed)s 条。")
                    % {"created": batch.rows_created, "existing": batch.rows_existing, "failed": batch.rows_failed},
                )
                return redirect(batch)
    sales = queries.ebikes_for(request.user, state=request.GET.get("state") or None)
    page = Paginator(sales, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "ebikes/dealer_home.html",
        {
            "dealer": dealer,
            "form": form,
            "page": page,
            "batches": queries.batches_for(request.user)[:10],
            "columns": imports.COLUMNS,
        },
        status=400 if form.errors else 200,
    )


def _batch(request: HttpRequest, pk: int) -> ImportBatch:
    try:
        return queries.batch_get(request.user, pk)
    except ImportBatch.DoesNotExist:
        raise Http404(_("未找到该导入记录。")) from None


@require_GET
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    batch = _batch(request, pk)
    failed_only = request.GET.get("failed") == "1"
    return render(
        request,
        "ebikes/import_detail.html",
        {"batch": batch, "rows": queries.batch_rows(batch, failed_only=failed_only), "failed_only": failed_only},
    )


@require_GET
def import_errors(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    batch = _batch(request, pk)
    response = HttpResponse(
        imports.report_csv(queries.batch_rows(batch, failed_only=True)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="ebike-import-{batch.pk}-errors.csv"'
    return response


@require_GET
@dealer_required
def import_template(request: HttpRequest, fmt: str) -> HttpResponse:
    if fmt == "xlsx":
        response = HttpResponse(
            imports.template_xlsx(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
    else:
        response = HttpResponse(imports.template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="ebike-sales-template.{fmt}"'
    return response
