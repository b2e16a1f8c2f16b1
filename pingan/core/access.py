"""Jurisdiction: who may see and act on what. Every query function scopes through here.

Rules (docs/architecture.md explains them):
- staff see and act only within the subtrees of their posts, and only for the roles a
  model's policy allows; a post at a department (警种) covers its bureau's subtree;
- auditors read, never act; an administrator posted at the province sees everything;
- citizens see their own records only; partners the records assigned to them;
- an object outside the user's view is "not found" — the same answer as for an object
  that does not exist — so a denial never reveals what exists. Denials are logged.

Models declare a policy once (in their app's ``ready()``):

    access.register(Assignment, access.Policy(org_field="org", view_roles=None,
                                              act_roles={"station_chief", ...}))
    assignments = access.scope(user, Assignment.objects.all())          # reads
    access.require(user, "act", assignment, role="station_chief")      # writes
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext as _

from pingan.core import registry
from pingan.core.catalog import roles as role_catalog

log = logging.getLogger(__name__)

Action = Literal["view", "act"]


@dataclass(frozen=True)
class Post:
    """One staff post as the access layer sees it."""

    org_id: int
    jurisdiction_path: str  # the subtree this post covers
    role: str


@dataclass(frozen=True)
class Policy:
    """How one model is scoped.

    ``org_field``: lookup path to the OrgUnit whose subtree decides staff access
    (``""``: the model is itself an org unit).
    ``owner_field``: lookup path to the citizen user who owns the record.
    ``partner_field``: lookup path to the partner user the record is assigned to.
    ``view_roles`` / ``act_roles``: staff roles allowed; ``None`` means every staff role.
    ``public``: anyone, even anonymous, may view (e.g. the list of police stations).
    ``path_field``: a copy of the unit's path on the row itself (indexed, kept equal to the
    unit's path by the app); lists then filter on it without joining the units (large tables).
    """

    org_field: str | None = None
    owner_field: str | None = None
    partner_field: str | None = None
    view_roles: frozenset[str] | None = None
    act_roles: frozenset[str] | None = None
    public: bool = False
    path_field: str | None = None

    def roles_for(self, action: Action) -> frozenset[str] | None:
        return self.view_roles if action == "view" else self.act_roles


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""
    # 404 when the user may not even know the object exists; 403 when it is visible to them.
    status: int = 200
    roles: frozenset[str] = field(default_factory=frozenset)

    def __bool__(self) -> bool:
        return self.allowed


class AccessDenied(PermissionError):
    def __init__(self, decision: Decision) -> None:
        self.decision = decision
        super().__init__(decision.reason)


def register(model: type[models.Model], policy: Policy) -> None:
    for roles in (policy.view_roles, policy.act_roles):
        unknown = set(roles or ()) - set(role_catalog())
        if unknown:
            raise ValueError(f"access policy of {model._meta.label}: unknown roles {sorted(unknown)}")
    registry.access_policies.register(model._meta.label_lower, policy)


def policy_for(model: type[models.Model] | models.Model) -> Policy:
    label = model._meta.label_lower
    if label not in registry.access_policies:
        raise LookupError(f"{model._meta.label} has no access policy; register one in its app's ready()")
    return registry.access_policies.get(label)


# --- Who the user is ---------------------------------------------------------------


def user_kind(user: Any) -> str:
    if user is None or not getattr(user, "is_authenticated", False):
        return "anonymous"
    return getattr(user, "kind", "staff")


def posts_of(user: Any) -> list[Post]:
    """The user's active staff posts (the accounts app implements ``access_posts``)."""
    if user_kind(user) != "staff":
        return []
    getter = getattr(user, "access_posts", None)
    return list(getter()) if callable(getter) else []


def is_everywhere(user: Any) -> bool:
    """Superusers, and administrators posted at the province root, see everything."""
    if getattr(user, "is_superuser", False) and getattr(user, "is_active", False):
        return True
    return any(post.role == "administrator" and post.jurisdiction_path.count("/") == 1 for post in posts_of(user))


def _acting_posts(user: Any, allowed_roles: frozenset[str] | None, action: Action) -> list[Post]:
    catalog = role_catalog()
    result = []
    for post in posts_of(user):
        role = catalog.get(post.role)
        if role is None:
            continue
        if action == "act" and role.read_only:
            continue
        if allowed_roles is not None and post.role not in allowed_roles and not (action == "view" and role.read_only):
            continue
        result.append(post)
    return result


def jurisdiction_paths(user: Any, *, roles: Iterable[str] | None = None, action: Action = "view") -> list[str]:
    """The subtree roots the user may reach with any of ``roles`` (minimal: no nested roots)."""
    allowed = frozenset(roles) if roles is not None else None
    paths = sorted({post.jurisdiction_path for post in _acting_posts(user, allowed, action)})
    minimal: list[str] = []
    for path in paths:
        if not any(path.startswith(root) for root in minimal):
            minimal.append(path)
    return minimal


def jurisdiction_q(
    user: Any,
    org_field: str,
    *,
    roles: Iterable[str] | None = None,
    action: Action = "view",
    path_field: str | None = None,
) -> Q:
    """A Q limiting ``org_field`` (or the path column ``path_field``) to the user's subtrees
    (an always-false Q if none)."""
    if getattr(user, "is_superuser", False) and action == "view":
        return Q()
    paths = jurisdiction_paths(user, roles=roles, action=action)
    if not paths:
        return Q(pk__in=[])
    lookup = f"{path_field}__under" if path_field else f"{org_field}__path__under" if org_field else "path__under"
    query = Q()
    for path in paths:
        query |= Q(**{lookup: path})
    return query


# --- Reads -------------------------------------------------------------------------


def scope(user: Any, queryset: models.QuerySet, action: Action = "view") -> models.QuerySet:
    """Only the rows of ``queryset`` that ``user`` may ``action`` — every read goes through this."""
    policy = policy_for(queryset.model)
    kind = user_kind(user)
    if policy.public and action == "view":
        return queryset
    if kind == "anonymous":
        return queryset.none()
    if kind == "citizen":
        if policy.owner_field is None:
            return queryset.none()
        return queryset.filter(**{policy.owner_field: user})
    if kind == "partner":
        if policy.partner_field is None:
            return queryset.none()
        return queryset.filter(**{policy.partner_field: user})
    if action == "view" and is_everywhere(user):
        return queryset
    if policy.org_field is None:
        return queryset.none()
    return queryset.filter(
        jurisdiction_q(
            user, policy.org_field, roles=policy.roles_for(action), action=action, path_field=policy.path_field
        )
    )


# --- One object --------------------------------------------------------------------


def _resolve(obj: Any, lookup: str) -> Any:
    if not lookup:
        return obj
    for part in lookup.split("__"):
        if obj is None:
            return None
        try:
            obj = getattr(obj, part)
        except ObjectDoesNotExist:
            return None
    return obj


def _pk(value: Any) -> Any:
    return getattr(value, "pk", value)


def org_path_of(obj: models.Model) -> str | None:
    """The jurisdiction path of ``obj`` by its policy (``None`` if it has none)."""
    label = obj._meta.label_lower
    if label not in registry.access_policies:
        return None
    policy = registry.access_policies.get(label)
    if policy.org_field is None:
        return None
    org = _resolve(obj, policy.org_field)
    return getattr(org, "path", None)


def roles_for(user: Any, obj: models.Model, action: Action = "act") -> frozenset[str]:
    """The staff roles (and pseudo-roles ``owner``/``partner``) the user holds over ``obj``."""
    policy = policy_for(obj)
    kind = user_kind(user)
    result: set[str] = set()
    if kind == "citizen" and policy.owner_field and _pk(_resolve(obj, policy.owner_field)) == user.pk:
        result.add("owner")
    if kind == "partner" and policy.partner_field and _pk(_resolve(obj, policy.partner_field)) == user.pk:
        result.add("partner")
    if kind == "staff":
        path = org_path_of(obj)
        for post in _acting_posts(user, policy.roles_for(action), action):
            if path is not None and path.startswith(post.jurisdiction_path):
                result.add(post.role)
        if action == "view" and is_everywhere(user):
            result.add("administrator")
    return frozenset(result)


def check(user: Any, action: Action, obj: models.Model, *, role: str | Iterable[str] | None = None) -> Decision:
    """May ``user`` ``action`` on ``obj`` (optionally: holding one of ``role``)?"""
    policy = policy_for(obj)
    if action == "view" and policy.public:
        return Decision(True, status=200)
    visible = roles_for(user, obj, "view")
    if not visible:
        return Decision(False, _("未找到该记录，或您无权查看。"), status=404)
    if action == "view" and role is None:
        return Decision(True, roles=visible, status=200)
    acting = roles_for(user, obj, action)
    wanted = {role} if isinstance(role, str) else set(role) if role is not None else None
    if wanted is not None:
        acting = frozenset(acting & wanted)
    if not acting:
        catalog = role_catalog()
        if wanted:
            names = "、".join(catalog[code].name for code in sorted(wanted) if code in catalog)
            reason = _("此操作需要以下角色之一：%(roles)s（且在您的管辖范围内）。") % {"roles": names}
        elif any(catalog.get(code) and catalog[code].read_only for code in visible):
            reason = _("审计岗位只能查看，不能办理。")
        else:
            reason = _("您的岗位无权办理此事项。")
        return Decision(False, reason, status=403)
    return Decision(True, roles=acting, status=200)


def require(user: Any, action: Action, obj: models.Model, *, role: str | Iterable[str] | None = None) -> Decision:
    """Like :func:`check`, but log and raise :class:`AccessDenied` when refused."""
    decision = check(user, action, obj, role=role)
    if not decision:
        log_denial(user, action, obj, decision)
        raise AccessDenied(decision)
    return decision


def log_denial(user: Any, action: str, subject: Any, decision: Decision) -> None:
    from pingan.core import timeline

    timeline.record(
        subject,
        "access.denied",
        actor=user,
        data={"action": action, "reason": decision.reason, "status": decision.status},
    )


def can_unmask(user: Any, obj: models.Model) -> bool:
    """May the user reveal full identifiers on ``obj``? (Citizens: their own, always.)"""
    catalog = role_catalog()
    held = roles_for(user, obj, "view")
    return "owner" in held or any(catalog[code].unmask for code in held if code in catalog)
