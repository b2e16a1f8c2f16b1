"""System checks: the catalogue must load before the server starts (``manage.py check``)."""

from __future__ import annotations

from django.core import checks

from pingan.core.catalog import CatalogError, roles


@checks.register()
def catalog_roles_check(app_configs=None, **kwargs):
    try:
        roles()
    except CatalogError as error:
        return [checks.Error(str(error), id="pingan.E001")]
    return []


@checks.register()
def workflows_check(app_configs=None, **kwargs):
    """Every workflow file loads, and every WorkflowModel names a workflow that exists."""
    from django.apps import apps

    from pingan.core import workflow

    workflow.reload()
    try:
        loaded = workflow.load_all()
    except CatalogError as error:
        return [checks.Error(str(error), id="pingan.E010")]
    problems = []
    for model in apps.get_models():
        code = getattr(model, "workflow_code", None)
        if not issubclass(model, workflow.WorkflowModel) or not isinstance(code, str):
            continue
        if code not in loaded:
            problems.append(checks.Error(f"{model._meta.label}: no workflow {code!r}", obj=model, id="pingan.E011"))
        elif loaded[code].clocks and not model._meta.get_field("due_at").db_index:
            # due_at_field(indexed=False) is for workflows that run no clocks: with clocks, the
            # deadline sweep and the overdue queues look items up by due_at.
            problems.append(
                checks.Error(
                    f"{model._meta.label}: workflow {code!r} runs clocks but due_at is not indexed",
                    hint="Declare due_at = due_at_field() (indexed), with a migration.",
                    obj=model,
                    id="pingan.E012",
                )
            )
    return problems


def _missing_calendar_years(offset: int) -> tuple[int, list[int]]:
    from django.utils import timezone

    from pingan.core import calendar

    calendar.reload()
    year = timezone.localdate(timezone=calendar.TZ).year + offset
    return year, calendar.missing_years([year])


def _calendar_message(year: int) -> str:
    return f"catalog/calendar/cn.yaml has no holidays for {year}: deadlines in {year} count Monday to Friday only"


CALENDAR_HINT = "Add the year's block from the State Council notice (国务院办公厅关于部分节假日安排的通知)."


@checks.register()
def calendar_years_check(app_configs=None, **kwargs):
    """This year's holidays must be in the calendar: without them deadlines are wrong now."""
    try:
        year, missing = _missing_calendar_years(0)
    except CatalogError as error:
        return [checks.Error(str(error), id="pingan.E012")]
    return [checks.Warning(_calendar_message(year), hint=CALENDAR_HINT, id="pingan.W013") for _ in missing]


@checks.register(deploy=True)
def calendar_next_year_check(app_configs=None, **kwargs):
    """Next year's holidays are published each November; until then ``check --deploy``
    reminds operators (deadlines reaching into next year count Monday to Friday)."""
    try:
        year, missing = _missing_calendar_years(1)
    except CatalogError as error:
        return [checks.Error(str(error), id="pingan.E012")]
    return [checks.Info(_calendar_message(year), hint=CALENDAR_HINT, id="pingan.I013") for _ in missing]
