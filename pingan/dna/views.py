"""Pages of the DNA store: the public list of free sampling points; sample registration
with consent (staff); and for DNA examiners the lab's samples, profile entry, the review
queue, the candidate page and the search log. Alleles appear only on examiners' pages,
and each page that shows them writes the read on the timeline."""

from __future__ import annotations

import math
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from pingan.accounts.decorators import staff_required
from pingan.core import access, timeline, workflow
from pingan.core.refusals import errors_onto_form, refusal_message, refusal_status
from pingan.dna import actions, queries, records, screening
from pingan.dna import kinship as engine
from pingan.dna.config import config
from pingan.dna.forms import ExcludeForm, ProfileEntryForm, RequestRelativeForm, RetestForm, SampleRegisterForm
from pingan.dna.models import Candidate, Profile, Role, Sample, SamplingPoint

EXAMINERS = frozenset({actions.EXAMINER})
RELATION_NAMES = dict(Role.choices)


def _points_for(user: Any) -> QuerySet[SamplingPoint]:
    """The sampling points in the user's jurisdiction (where they take samples)."""
    paths = access.jurisdiction_paths(user, roles=actions.SAMPLING_ROLES, action="act")
    query = queries.points_public()
    if access.is_everywhere(user):
        return query
    from django.db.models import Q

    within = Q(pk__in=[])
    for path in paths:
        within |= Q(org__path__startswith=path)
    return query.filter(within)


# --- Public -------------------------------------------------------------------------------


@require_GET
def points(request: HttpRequest) -> HttpResponse:
    """Where to give a sample, free: stations and designated hospitals (public)."""
    division = request.GET.get("division", "").strip()[:6]
    if not division.isdigit():
        division = ""
    page = Paginator(queries.points_public(division=division), 50).get_page(request.GET.get("page"))
    return render(request, "dna/points.html", {"page": page, "division": division})


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    if queries.is_examiner(request.user):
        return redirect("dna:review")
    if request.user.is_authenticated and queries.may_sample(request.user):
        return redirect("dna:samples")
    return redirect("dna:points")


# --- Sampling (staff) ---------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@staff_required(roles=actions.SAMPLING_ROLES)
def sample_register(request: HttpRequest) -> HttpResponse:
    """Register a sample with the donor's consent, for a 团圆 record."""
    reference = (request.POST.get("record_reference") or request.GET.get("record") or "").strip().upper()[:20]
    record = records.record_info(reference) if reference else None
    if reference and record is None:
        messages.error(request, _("未找到该团圆记录编号。"))
    form = None
    status = 200
    if record is not None:
        form = SampleRegisterForm(request.POST or None, record=record, points=_points_for(request.user))
        if request.method == "GET":
            form.initial["record_reference"] = record.reference
        if request.method == "POST" and form.is_valid():
            relation, relative_id = form.donor_parts()
            try:
                sample = actions.sample_register(
                    record_reference=record.reference,
                    relation=relation,
                    relative_id=relative_id,
                    point=form.cleaned_data["point"],
                    actor=request.user,
                    agreed=form.cleaned_data["agreed"],
                    keep_after_reunion=form.cleaned_data["keep_after_reunion"],
                    lab=form.cleaned_data["lab"],
                )
            except (ValidationError, actions.DnaRefused, access.AccessDenied) as error:
                if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
                    errors_onto_form(form, error)
                else:
                    form.add_error(None, refusal_message(error))
                status = refusal_status(error) if not isinstance(error, ValidationError) else 400
            else:
                messages.success(
                    request,
                    _("已登记检材 %(sample)s（采样人编码 %(donor)s），请送检。")
                    % {"sample": sample.code, "donor": sample.consent.donor_code},
                )
                return redirect("dna:record", reference=record.reference)
        elif request.method == "POST":
            status = 400
    return render(
        request, "dna/sample_register.html", {"record": record, "form": form, "reference": reference}, status=status
    )


@require_GET
@staff_required(roles=actions.SAMPLING_ROLES)
def samples(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    if state not in Sample.workflow().states:
        state = ""
    page = Paginator(queries.samples_for(request.user, state=state), 50).get_page(request.GET.get("page"))
    wf = Sample.workflow()
    return render(
        request,
        "dna/samples.html",
        {
            "page": page,
            "state": state,
            "states": [(code, wf.state_name(code)) for code in wf.states],
            "examiner": queries.is_examiner(request.user),
        },
    )


def _sample(request: HttpRequest, code: str) -> Sample:
    try:
        return queries.sample_get(request.user, code)
    except Sample.DoesNotExist:
        raise Http404(_("未找到该检材，或您无权查看。")) from None


@require_POST
@staff_required(roles=EXAMINERS)
def sample_receive(request: HttpRequest, code: str) -> HttpResponse:
    sample = _sample(request, code)
    try:
        actions.sample_receive(sample=sample, actor=request.user, lab=request.POST.get("lab", "").strip())
    except (workflow.WorkflowError, access.AccessDenied) as error:
        messages.error(request, refusal_message(error))
    else:
        messages.success(request, _("检材 %(code)s 已接收。") % {"code": sample.code})
    return redirect(reverse("dna:samples") + "?state=at_lab")


@require_POST
@staff_required(roles=EXAMINERS)
def sample_fail(request: HttpRequest, code: str) -> HttpResponse:
    sample = _sample(request, code)
    try:
        actions.sample_fail(sample=sample, actor=request.user, reason=request.POST.get("reason", "").strip())
    except (workflow.WorkflowError, access.AccessDenied) as error:
        messages.error(
            request, refusal_message(error) if not isinstance(error, workflow.InputInvalid) else _("请填写失败原因。")
        )
    else:
        messages.success(request, _("已记录检验失败，请通知重新采样。"))
    return redirect(reverse("dna:samples") + "?state=at_lab")


@require_GET
@staff_required()
def record(request: HttpRequest, reference: str) -> HttpResponse:
    """A record's DNA work: consents, samples and candidates (states only, never alleles)."""
    reference = reference.strip().upper()[:20]
    consents = list(queries.consents_for(request.user, record_reference=reference))
    sample_rows = list(queries.samples_for(request.user, record_reference=reference))
    candidates = list(queries.candidates_for(request.user, record_reference=reference))
    if not consents and not sample_rows and not candidates and not queries.may_sample(request.user):
        raise Http404(_("未找到该记录，或您无权查看。"))
    info = records.record_info(reference) if queries.may_sample(request.user) else None
    return render(
        request,
        "dna/record.html",
        {
            "reference": reference,
            "info": info,
            "consents": consents,
            "samples": sample_rows,
            "candidates": candidates,
            "relations": RELATION_NAMES,
        },
    )


# --- Examiners ----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@staff_required(roles=EXAMINERS)
def profile_enter(request: HttpRequest, code: str) -> HttpResponse:
    sample = _sample(request, code)
    form = ProfileEntryForm(request.POST or None, request.FILES or None)
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data.get("upload")
            try:
                if upload is not None:
                    if upload.size > actions.MAX_PROFILE_BYTES:
                        raise engine.ProfileError([_("文件过大（最多 64 KB）。")])
                    data = actions.parse_upload(upload.read(), filename=upload.name or "")
                else:
                    data = actions.parse_upload(form.cleaned_data["text"])
                profile = actions.profile_enter(sample=sample, data=data, actor=request.user)
            except engine.ProfileError as error:
                problems, status = list(error.errors), 400
            except (actions.DnaRefused, workflow.WorkflowError, access.AccessDenied) as error:
                problems, status = [refusal_message(error)], refusal_status(error)
            else:
                messages.success(
                    request,
                    _("分型 %(code)s 已入库（%(loci)s 个基因座），已与全库比对。")
                    % {"code": profile.code, "loci": profile.loci},
                )
                return redirect("dna:searches")
        else:
            status = 400
    return render(
        request,
        "dna/profile_enter.html",
        {"sample": sample, "form": form, "problems": problems, "markers": screening.table().markers},
        status=status,
    )


@require_GET
@staff_required(roles=EXAMINERS)
def profile_detail(request: HttpRequest, code: str) -> HttpResponse:
    try:
        profile = queries.profile_get(request.user, code)
        alleles = queries.profile_genotype(request.user, profile, purpose="profile_page")
    except Profile.DoesNotExist:
        raise Http404(_("未找到该分型，或您无权查看。")) from None
    except access.AccessDenied as denied:
        raise Http404(denied.decision.reason) from None
    return render(request, "dna/profile_detail.html", {"profile": profile, "alleles": sorted(alleles.items())})


@require_GET
@staff_required(roles=EXAMINERS)
def review(request: HttpRequest) -> HttpResponse:
    """The review queue, highest posterior first."""
    page = Paginator(queries.review_queue(request.user), 50).get_page(request.GET.get("page"))
    return render(request, "dna/review.html", {"page": page, "config": config()})


def _candidate(request: HttpRequest, code: str) -> Candidate:
    try:
        return queries.candidate_get(request.user, code)
    except Candidate.DoesNotExist:
        raise Http404(_("未找到该比中，或您无权查看。")) from None


def _lr_text(log10_lr: float) -> str:
    if log10_lr < 6:
        return f"{10**log10_lr:,.0f}" if log10_lr >= 0 else f"{10**log10_lr:.3g}"
    return f"10^{log10_lr:.2f}"


def _record_url(reference: str) -> str | None:
    try:
        return reverse("reunion:record", args=[reference])
    except NoReverseMatch:
        return None


def _record_state(reference: str) -> str:
    info = records.record_info(reference)
    return str(info.record.state_name) if info is not None else ""


def _candidate_context(request: HttpRequest, candidate: Candidate, **extra: Any) -> dict[str, Any]:
    examiner = queries.is_examiner(request.user)
    rows: list[dict[str, Any]] = []
    family = list(candidate.family_profiles.order_by("role", "id"))
    person = candidate.person_profile
    if examiner:
        # The per-locus table shows the alleles side by side: each profile read is logged.
        shown: dict[int, dict[str, list[str]]] = {}
        for profile in [*family, person]:
            if profile.deleted_at is None:
                try:
                    shown[profile.pk] = queries.profile_genotype(request.user, profile, purpose="candidate_review")
                except access.AccessDenied:
                    shown[profile.pk] = {}
            else:
                shown[profile.pk] = {}
        for marker, value in sorted(candidate.loci_lr.items()):
            rows.append(
                {
                    "marker": marker,
                    "family": ["/".join(shown[p.pk].get(marker, [])) or "—" for p in family],
                    "person": "/".join(shown[person.pk].get(marker, [])) or "—",
                    "lr": value,
                    "log10": math.log10(value) if value > 0 else None,
                    "inconsistent": marker in candidate.inconsistent_loci,
                }
            )
    transitions = {t.action for t in workflow.available_actions(candidate, request.user)} if examiner else set()
    factor = candidate.log10_lr + (candidate.attribute_log10_bf or 0.0)
    context = {
        "candidate": candidate,
        "missing_url": _record_url(candidate.missing_reference),
        "missing_state": _record_state(candidate.missing_reference),
        "found_state": _record_state(candidate.found_reference),
        "found_url": _record_url(candidate.found_reference),
        "examiner": examiner,
        "family": [(p, RELATION_NAMES.get(p.role, p.role)) for p in family],
        "person": person,
        "rows": rows,
        "lr_text": _lr_text(candidate.log10_lr),
        "threshold_text": _lr_text(math.log10(candidate.threshold_lr)),
        "factor_text": _lr_text(factor),
        "mode_name": config().mode_name(candidate.mode),
        "suggestions": [
            {**s, "name": RELATION_NAMES.get(s["relation"], s["relation"])} for s in candidate.suggestions[:4]
        ],
        "transitions": transitions,
        "may_reunite": candidate.state == "confirmed" and bool(access.check(request.user, "act", candidate)),
        "exclude_form": ExcludeForm(),
        "relative_form": RequestRelativeForm(
            initial={"relation": candidate.suggestions[0]["relation"]} if candidate.suggestions else None
        ),
        "retest_form": RetestForm(points=_points_for(request.user)) if candidate.state == "retest_ordered" else None,
        "history": [
            (event, candidate.workflow().action_name(event.action.removeprefix("workflow.")))
            for event in timeline.events_for(candidate).filter(action__startswith="workflow.")
        ],
        "excluded_elsewhere": queries.candidates_for(request.user, state="excluded")
        .filter(found_reference=candidate.found_reference)
        .exclude(pk=candidate.pk)
        .count(),
    }
    context.update(extra)
    return context


@require_GET
@staff_required()
def candidate_detail(request: HttpRequest, code: str) -> HttpResponse:
    candidate = _candidate(request, code)
    return render(request, "dna/candidate.html", _candidate_context(request, candidate))


@require_POST
@staff_required(roles=EXAMINERS)
def candidate_act(request: HttpRequest, code: str) -> HttpResponse:
    candidate = _candidate(request, code)
    action = request.POST.get("action", "")
    try:
        if action == "order_retest":
            actions.candidate_order_retest(
                candidate=candidate, actor=request.user, note=request.POST.get("note", "").strip()[:1000]
            )
            messages.success(request, _("已确认并安排复核检验：请采集同一人的新检材。"))
        elif action == "exclude":
            form = ExcludeForm(request.POST)
            if not form.is_valid():
                context = _candidate_context(request, candidate, exclude_form=form)
                return render(request, "dna/candidate.html", context, status=400)
            actions.candidate_exclude(candidate=candidate, actor=request.user, reason=form.cleaned_data["reason"])
            messages.success(request, _("已排除，该组比对不会再次出现。"))
            return redirect("dna:review")
        elif action == "request_relative":
            form = RequestRelativeForm(request.POST)
            if not form.is_valid():
                context = _candidate_context(request, candidate, relative_form=form)
                return render(request, "dna/candidate.html", context, status=400)
            actions.candidate_request_relative(
                candidate=candidate,
                actor=request.user,
                relation=form.cleaned_data["relation"],
                note=form.cleaned_data["note"],
            )
            messages.success(request, _("已通知承办单位补采亲属样本。"))
        else:
            messages.error(request, _("未知的操作。"))
            return render(request, "dna/candidate.html", _candidate_context(request, candidate), status=400)
    except (workflow.WorkflowError, access.AccessDenied) as error:
        status = refusal_status(error)
        if status == 404:
            raise Http404(refusal_message(error)) from None
        messages.error(request, refusal_message(error))
        candidate.refresh_from_db()
        return render(request, "dna/candidate.html", _candidate_context(request, candidate), status=status)
    return redirect(candidate)


@require_POST
@staff_required(roles=EXAMINERS)
def candidate_retest(request: HttpRequest, code: str) -> HttpResponse:
    candidate = _candidate(request, code)
    form = RetestForm(request.POST, points=_points_for(request.user))
    if not form.is_valid():
        context = _candidate_context(request, candidate, retest_form=form)
        return render(request, "dna/candidate.html", context, status=400)
    try:
        data = actions.parse_upload(form.cleaned_data["text"])
        profile = actions.retest_collect_and_enter(
            candidate=candidate, point=form.cleaned_data["point"], data=data, actor=request.user
        )
    except engine.ProfileError as error:
        form.add_error("text", list(error.errors))
        return render(
            request, "dna/candidate.html", _candidate_context(request, candidate, retest_form=form), status=400
        )
    except (actions.DnaRefused, ValidationError, workflow.WorkflowError, access.AccessDenied) as error:
        messages.error(request, refusal_message(error))
        candidate.refresh_from_db()
        return render(
            request, "dna/candidate.html", _candidate_context(request, candidate), status=refusal_status(error)
        )
    if profile.retest_matches:
        messages.success(request, _("复核检验与原分型一致，比中已确认。"))
    else:
        messages.error(request, _("复核检验与原分型不一致，请核查检材。"))
    return redirect(candidate)


@require_POST
@staff_required(roles=frozenset({actions.EXAMINER, "investigator"}))
def candidate_reunion(request: HttpRequest, code: str) -> HttpResponse:
    candidate = _candidate(request, code)
    try:
        actions.candidate_record_reunion(
            candidate=candidate, actor=request.user, note=request.POST.get("note", "").strip()[:2000]
        )
    except (actions.DnaRefused, workflow.WorkflowError, access.AccessDenied, ValidationError) as error:
        status = refusal_status(error)
        if status == 404:
            raise Http404(refusal_message(error)) from None
        messages.error(request, refusal_message(error))
        return render(request, "dna/candidate.html", _candidate_context(request, candidate), status=status)
    messages.success(request, _("已认定团圆，两条记录均已更新。"))
    return redirect(candidate)


@require_GET
@staff_required(roles=EXAMINERS)
def searches(request: HttpRequest) -> HttpResponse:
    page = Paginator(queries.search_logs_for(request.user), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "dna/searches.html",
        {"page": page, "rescreens": queries.rescreens_for(request.user)[:7], "config": config()},
    )
