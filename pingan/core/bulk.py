"""Many rows at once: inserting thousands of new rows fast, and looking thousands up.

    bulk.insert([Ticket(...), Ticket(...), ...])              # the objects get their keys
    ids = bulk.insert_rows(EBike, ["state", "owner_id", ...], rows, count=n)   # no objects
    EBike.objects.filter(frame_number__any=frames)            # one array, not 2,000 placeholders
    with bulk.collection_paused(): ...                        # the cycle collector waits

On PostgreSQL the rows go in with ``COPY ... FROM STDIN`` (psycopg 3's copy support), their
keys drawn from the table's own sequence in one query first: several times faster than
``bulk_create``'s INSERT for thousands of rows, on the server and in Python. Elsewhere
(SQLite) it is ``bulk_create``. Like ``bulk_create``, it sends no signals and calls no
``save()``: callers set what ``save()`` would (a workflow item's initial state…).

Values are prepared for the database by the fields themselves (encryption, JSON,
``auto_now_add``…); only a plain field (Django's own character, number, boolean and date
fields and foreign keys to them) holding nothing or a value already of its type (an aware
datetime) is passed as it is — preparing it would change nothing, and it is most of the cost.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from typing import Any, TypeVar

from django.conf import settings
from django.db import connections, models, router
from django.db.models import lookups
from django.utils import timezone

M = TypeVar("M", bound=models.Model)


@models.Field.register_lookup
class AnyOf(lookups.In):
    """``filter(frame_number__any=frames)``: ``IN (...)``; on PostgreSQL ``= ANY(%s)`` with
    the values as one array parameter. A file's 2,000 values stay one parameter: with
    ``__in``, psycopg rewrites a query of 2,000 placeholders on every call, and the server
    parses it — a look-up cost a third more."""

    lookup_name = "any"

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        if not self.rhs_is_direct_value():
            return super().as_sql(compiler, connection)  # a subquery: IN (SELECT …)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = [value for value in self.rhs if value is not None]
        return f"{lhs} = ANY(%s)", [*lhs_params, values]


_PLAIN_TYPES: dict[str, type] = {
    "CharField": str,
    "TextField": str,
    "SlugField": str,
    "IntegerField": int,
    "BigIntegerField": int,
    "SmallIntegerField": int,
    "PositiveIntegerField": int,
    "PositiveBigIntegerField": int,
    "PositiveSmallIntegerField": int,
    "AutoField": int,
    "BigAutoField": int,
    "SmallAutoField": int,
    "BooleanField": bool,
    "DateField": dt.date,
    "DateTimeField": dt.datetime,
}


def _stock(field: models.Field) -> bool:
    """Does the field prepare values exactly as Django's own field classes do?"""
    methods = ("get_prep_value", "get_db_prep_value", "get_db_prep_save", "pre_save")
    return all(getattr(type(field), name).__module__.startswith("django.") for name in methods)


def _plain_type(field: models.Field) -> type | None:
    """The Python type a value of ``field`` has when it needs no preparation (else None)."""
    if field.is_relation:
        target = field.target_field  # type: ignore[attr-defined]
        return _plain_type(target) if _stock(field) else None
    if not _stock(field) or _stamps(field):
        return None
    return _PLAIN_TYPES.get(field.get_internal_type())


Preparer = Callable[[Any, Any], Any]  # (value, connection) -> what the database takes


def _value_preparer(field: models.Field) -> Preparer:
    """How a value of ``field`` is made ready for the database: by the field, unless it is
    nothing or already of the field's plain type (then preparing it would change nothing)."""

    def prepared(value: Any, connection: Any) -> Any:
        return field.get_db_prep_save(value, connection)

    plain = _plain_type(field)
    if plain is None and _stock(field) and not _stamps(field):  # Django's fields keep None as NULL
        return lambda value, connection: None if value is None else prepared(value, connection)
    if plain is None or (plain is dt.datetime and not settings.USE_TZ):
        return prepared
    if plain is dt.datetime:  # aware as it is; a naive one Django makes aware (and warns)
        return lambda value, connection: (
            value if value is None or (type(value) is dt.datetime and value.tzinfo) else prepared(value, connection)
        )
    return lambda value, connection: value if value is None or type(value) is plain else prepared(value, connection)


def _stamps(field: models.Field) -> bool:
    """Is it a field ``pre_save`` fills in (``auto_now``, ``auto_now_add``)?"""
    return bool(getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))


def _computed(field: models.Field) -> bool:
    """Does ``pre_save`` compute the field's value (a time stamp, a custom field's doing)?"""
    return _stamps(field) or not type(field).pre_save.__module__.startswith("django.")


@cache
def _columns(model: type[models.Model]) -> tuple[tuple[models.Field, ...], tuple[Preparer, ...]]:
    fields = tuple(model._meta.concrete_fields)
    return fields, tuple(_value_preparer(field) for field in fields)


def _check_model(model: type[models.Model]) -> None:
    if not isinstance(model._meta.pk, models.AutoField):
        raise TypeError(f"bulk inserts need an auto-incremented key; {model._meta.label} has none")


def _new_ids(cursor: Any, model: type[models.Model], count: int) -> list[int]:
    """``count`` keys from the table's own sequence: what the inserts would have drawn."""
    meta = model._meta
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
        [meta.db_table, meta.pk.column, count],
    )
    return [pk for (pk,) in cursor.fetchall()]


def _copy(cursor: Any, model: type[models.Model], rows: Iterable[list[Any]]) -> None:
    """``COPY`` rows holding every concrete column's value, prepared, in field order."""
    quote = cursor.db.ops.quote_name
    fields = _columns(model)[0]
    columns = ", ".join(quote(field.column) for field in fields)
    # Django's wrapper turns the driver's errors into its own (IntegrityError…), as for any query.
    with (
        cursor.db.wrap_database_errors,
        cursor.cursor.copy(f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def insert(objects: Sequence[M], *, using: str | None = None) -> list[M]:
    """Insert ``objects`` (new, all of one model, primary keys unset) and set their keys."""
    if not objects:
        return list(objects)
    model = type(objects[0])
    alias = using or router.db_for_write(model)
    connection = connections[alias]
    if connection.vendor != "postgresql":
        return model._default_manager.using(alias).bulk_create(objects, batch_size=500)
    _check_model(model)
    if any(type(obj) is not model for obj in objects):
        raise TypeError("bulk.insert takes objects of one model")
    fields, preparers = _columns(model)
    computed = [field for field in fields if _computed(field)]
    with connection.cursor() as cursor:
        for obj, pk in zip(objects, _new_ids(cursor, model, len(objects)), strict=True):
            obj.pk = pk
            obj._state.db = alias
            for field in computed:
                setattr(obj, field.attname, field.pre_save(obj, True))
        attnames = [field.attname for field in fields]
        _copy(
            cursor,
            model,
            (
                [prepare(getattr(obj, name), connection) for name, prepare in zip(attnames, preparers, strict=True)]
                for obj in objects
            ),
        )
    for obj in objects:
        obj._state.adding = False
    return list(objects)


def insert_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    count: int | None = None,
    using: str | None = None,
) -> list[int]:
    """Insert rows given as values of ``fields`` (attribute names: ``owner_id``, not
    ``owner``) and return their new keys, in order. Every other field takes its default;
    ``auto_now``/``auto_now_add`` fields one time for the whole lot. For thousands of rows
    of a wide model, building the model objects costs more than the insert.

    ``rows`` may be a generator, with ``count`` saying how many it gives: on PostgreSQL it
    is run while the rows stream to the server, so the server stores the first rows while
    Python makes the next ones (the two cores work at once)."""
    if count is None:
        rows = list(rows)
        count = len(rows)
    if not count:
        return []
    alias = using or router.db_for_write(model)
    connection = connections[alias]
    if connection.vendor != "postgresql":
        objects = [model(**dict(zip(fields, row, strict=True))) for row in rows]
        return [obj.pk for obj in model._default_manager.using(alias).bulk_create(objects, batch_size=500)]
    _check_model(model)
    all_fields, preparers = _columns(model)
    if any(_computed(field) and not _stamps(field) for field in all_fields):
        raise TypeError(f"{model._meta.label} has fields save() computes: use bulk.insert")
    position = {field.attname: index for index, field in enumerate(all_fields)}
    given = [position[name] for name in fields]  # KeyError: not a field of the model
    template: list[Any] = []
    for field, prepare in zip(all_fields, preparers, strict=True):
        default = timezone.now() if _stamps(field) else field.get_default()
        template.append(prepare(default, connection))
    fresh = [  # defaults made anew for each row (a list, a dict…)
        (index, field, prepare)
        for index, (field, prepare) in enumerate(zip(all_fields, preparers, strict=True))
        if index not in given and callable(field.default) and not _stamps(field) and field is not model._meta.pk
    ]
    steps = [(index, preparers[index]) for index in given]
    with connection.cursor() as cursor:
        ids = _new_ids(cursor, model, count)
        pk_index = position[model._meta.pk.attname]

        def values(pk: int, row: Sequence[Any]) -> list[Any]:
            out = template.copy()
            out[pk_index] = pk
            for (index, prepare), value in zip(steps, row, strict=True):
                out[index] = prepare(value, connection)
            for index, field, prepare in fresh:
                out[index] = prepare(field.get_default(), connection)
            return out

        _copy(cursor, model, (values(pk, row) for pk, row in zip(ids, rows, strict=True)))
    return ids


@contextmanager
def collection_paused() -> Iterator[None]:
    """Hold off Python's cycle collector while a bulk job allocates (a file of 2,000 rows
    makes some 50,000 objects, freed by reference counting; without this the collector
    walks the whole heap a few times over, a fifth of the job's time). It runs again after."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
