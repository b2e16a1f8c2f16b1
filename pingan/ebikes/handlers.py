"""The e-services handler of the ``ebike_registration`` service (contract:
``pingan/eservices/handlers.py``). The application moves through the shared
``service_inspection`` workflow; this handler keeps the bicycle's own record in step,
inside the application's transaction:

==============================  =================================================================
application step                the register
==============================  =================================================================
``submit``                      pre-registration from ``application.form_data`` (or the
                                applicant's own pre-registration of that frame, linked)
``inspect``                     the inspection (result 合格 / 不合格; a dealer only if it sold it)
``reinspect``                   back to pre-registered
``issue``                       plate allocated → ``application.result["plate"]``
``refuse`` / ``withdraw`` / …   the pre-registration cancelled, freeing the frame number
==============================  =================================================================

The form fields are ``rules.FORM_FIELDS``: brand, model, colour, frame_number,
motor_number, purchase_date, invoice_number.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from pingan.accounts.models import User
from pingan.core import access, workflow
from pingan.ebikes import actions, certificates, rules
from pingan.ebikes.models import EBike

SERVICE_CODE = "ebike_registration"
# Other names a service form may give the fields (the register's names are rules.FORM_FIELDS).
ALIASES = {"frame_no": "frame_number", "motor_no": "motor_number", "color": "colour", "invoice_no": "invoice_number"}


def form_fields(application: Any) -> set[str]:
    service = getattr(application, "service", None)
    return set(((getattr(service, "form", None) or {}).get("properties") or {}).keys())


def bike_form(application: Any, data: dict[str, Any]) -> dict[str, Any]:
    """The form's answers under the register's field names. A form with one 品牌型号 field
    (``brand`` = "泉骑 TDT1000Z") is split at the last space into brand and model."""
    values = {ALIASES.get(key, key): value for key, value in data.items()}
    if not values.get("model") and isinstance(values.get("brand"), str) and " " in values["brand"].strip():
        values["brand"], values["model"] = values["brand"].strip().rsplit(" ", 1)
    return values


def _form_errors(application: Any, errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """Errors under the names the application's form uses (so they show beside its fields)."""
    fields = form_fields(application)
    if not fields:
        return errors
    back = {register: form for form, register in ALIASES.items() if form in fields}
    if "model" not in fields:
        back["model"] = "brand"
    result: dict[str, list[str]] = {}
    for name, problems in errors.items():
        result.setdefault(back.get(name, name), []).extend(problems)
    return result


def _invoice_required(application: Any) -> bool:
    # A form without the invoice number has the invoice uploaded as a document instead.
    fields = form_fields(application)
    return not fields or "invoice_number" in fields or "invoice_no" in fields


ENDING_STEPS = ("refuse", "refuse_after_inspection", "withdraw")


def _applicant_hash(application: Any) -> str:
    profile = getattr(application.applicant, "citizen", None)
    return profile.id_number_hash if profile is not None else ""


def _own_preregistration(application: Any, frame: str) -> EBike | None:
    """The applicant's own pre-registration of ``frame`` not yet tied to an application (a
    dealer's sale, an online pre-registration): the application takes it over."""
    holder = actions.frame_holder(frame)
    if holder is None or holder.application_reference or holder.state not in ("pre_registered", "inspected"):
        return None
    mine = holder.owner_id == application.applicant_id or (
        holder.owner_id is None and holder.buyer_id_hash and holder.buyer_id_hash == _applicant_hash(application)
    )
    return holder if mine else None


def _step_actor(step: Any) -> User | None:
    actor_id = getattr(getattr(step, "event", None), "actor_id", None)
    return User.objects.filter(pk=actor_id).first() if actor_id else None


def ebike_of(application: Any) -> EBike | None:
    return (
        EBike.objects.select_related("plate", "owner", "dealer")
        .filter(application_reference=application.reference)
        .first()
    )


class EBikeRegistrationHandler:
    """Keeps the e-bike register in step with ``ebike_registration`` applications."""

    def validate(self, application: Any, data: dict[str, Any]) -> dict[str, list[str]]:
        """Extra checks at submit: formats, the catalogue (GB 17761-2018), the purchase date,
        and that the frame number is not registered already."""
        values = bike_form(application, data)
        bike, errors = rules.clean_bike(values, invoice_required=_invoice_required(application))
        frame = bike.frame_number if bike is not None else rules.normalise_frame(values.get("frame_number"))
        if frame and "frame_number" not in errors:
            holder = actions.frame_holder(frame)
            theirs = holder is not None and holder.application_reference != application.reference
            if theirs and _own_preregistration(application, frame) is None:
                errors["frame_number"] = [rules.frame_taken_message(frame)]
        return _form_errors(application, errors)

    def on_transition(self, application: Any, step: Any) -> None:
        action = step.action
        if action == "submit":
            self._submitted(application)
            return
        ebike = ebike_of(application)
        if ebike is None:
            return  # an application submitted before the handler existed: nothing to keep in step
        if action == "inspect":
            self._inspected(application, ebike, step)
        elif action == "reinspect" and ebike.state == "inspected":
            reason = (step.data or {}).get("reason") or _("复检")
            actions.ebike_reinspect(ebike=ebike, actor=None, reason=reason)
        elif action == "issue":
            self._issued(application, ebike)
        elif action in ENDING_STEPS and ebike.state in ("pre_registered", "inspected"):
            actions.ebike_cancel(
                ebike=ebike,
                actor=None,
                reason="其他",
                note=_("办事申请 %(ref)s 已结束") % {"ref": application.reference},
            )

    def credential_claims(self, application: Any) -> dict[str, Any]:
        ebike = ebike_of(application)
        if ebike is None:
            raise ValidationError({"ebike": [_("未找到该申请对应的车辆登记。")]})
        if ebike.plate is None:
            ebike = self._issued(application, ebike)
        return certificates.claims_for(ebike)

    # --- steps ---

    def _submitted(self, application: Any) -> None:
        if ebike_of(application) is not None:
            return
        data = bike_form(application, application.form_data)
        frame = rules.normalise_frame(data.get("frame_number"))
        own = _own_preregistration(application, frame) if frame else None
        if own is not None:
            if own.owner_id is None:
                actions.ebikes_claim(citizen=application.applicant)
            EBike.objects.filter(pk=own.pk).update(application_reference=application.reference)
            return
        actions.ebike_preregister(
            actor=None,
            data=data,
            owner=application.applicant,
            org=application.org,
            application_reference=application.reference,
            invoice_required=_invoice_required(application),
        )

    def _inspected(self, application: Any, ebike: EBike, step: Any) -> None:
        data = step.data or {}
        inspector = _step_actor(step)
        if access.user_kind(inspector) == "partner" and (
            ebike.dealer is None or ebike.dealer.partner_id != inspector.pk  # type: ignore[union-attr]
        ):
            raise workflow.GuardFailed("ebike_dealer_sold", _("只有销售该车的授权经销商可以查验，请到派出所窗口查验。"))
        if ebike.state != "pre_registered":
            return
        actions.ebike_inspect(
            ebike=ebike,
            actor=None,
            inspector=inspector,
            passed=data.get("result", "合格") == "合格",
            note=data.get("note") or ("" if data.get("result", "合格") == "合格" else _("查验不合格")),
        )

    def _issued(self, application: Any, ebike: EBike) -> EBike:
        if ebike.state == "inspected":
            names_credential = getattr(application.service, "credential", None) == certificates.KIND
            ebike = actions.ebike_register(ebike=ebike, actor=None, issue_certificate=not names_credential)
        if ebike.plate is not None:
            # Saved with the application by eservices.actions.advance (same transaction).
            application.result = {**application.result, "plate": ebike.plate.number}
        return ebike


handler = EBikeRegistrationHandler()
