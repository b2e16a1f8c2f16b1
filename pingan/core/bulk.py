"""Many rows at once: inserting thousands of new rows fast, and looking thousands up.

    ids = bulk.insert_rows(EBike, ["state", "owner_id", ...], rows, count=n)   # new keys, in order
    ids = bulk.insert_rows(EBike, fields, chosen_rows(), at_most=n)          # a generator that decides
    EBike.objects.filter(frame_number__any=frames)    # one array, not 2,000 placeholders
    with bulk.collection_paused(): ...                # the cycle collector waits
    with bulk.keys_checked_meanwhile(): ...           # the server checks keys while Python works

Rows are given as field values, not model objects (for thousands of rows of a wide model,
building the objects costs more than the insert). On PostgreSQL they go in with
``COPY ... FROM STDIN`` (psycopg 3's copy support), their keys drawn from the table's own
sequence in one query first; on SQLite as multi-row ``INSERT ... RETURNING``. Like
``bulk_create``, no signals and no ``save()``: callers set what ``save()`` would (a
workflow item's initial state…).

Values are prepared for the database by the fields themselves (encryption, JSON, dates);
only a plain field (Django's own character, number, boolean and — on PostgreSQL — date
fields, and foreign keys to them) holding nothing or a value already of its type is passed
as it is: preparing it would change nothing, and it is most of the cost.
"""

from __future__ import annotations

import datetime as dt
import gc
import itertools
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, models, router
from django.db.models import lookups
from django.utils import timezone


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
        if values and all(type(value) is str for value in values):
            # Text goes as one string the server splits: psycopg quotes an array's
            # elements one by one in Python, a string at once (a file's 2,000 look-ups).
            joined = _UNIT_SEPARATOR.join(values)
            if joined.count(_UNIT_SEPARATOR) == len(values) - 1:  # no value holds the separator
                return f"{lhs} = ANY(string_to_array(%s, chr(31)))", [*lhs_params, joined]
        return f"{lhs} = ANY(%s)", [*lhs_params, values]


_UNIT_SEPARATOR = chr(31)  # ASCII's unit separator: no identifier holds it


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
}
# psycopg takes dates and aware datetimes as they are; SQLite's driver would write them
# in another text form than Django's, so there Django prepares them.
_PLAIN_ON_POSTGRESQL: dict[str, type] = {"DateField": dt.date, "DateTimeField": dt.datetime}


def _stock(field: models.Field) -> bool:
    """Does the field prepare values exactly as Django's own field classes do?"""
    methods = ("get_prep_value", "get_db_prep_value", "get_db_prep_save", "pre_save")
    return all(getattr(type(field), name).__module__.startswith("django.") for name in methods)


def _stamps(field: models.Field) -> bool:
    """Is it a field ``pre_save`` fills in (``auto_now``, ``auto_now_add``)?"""
    return bool(getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))


def _plain_type(field: models.Field, vendor: str) -> type | None:
    """The Python type a value of ``field`` has when it needs no preparation (else None)."""
    if field.is_relation:
        target = field.target_field  # type: ignore[attr-defined]
        return _plain_type(target, vendor) if _stock(field) else None
    if not _stock(field) or _stamps(field):
        return None
    kind = field.get_internal_type()
    if kind == "DateTimeField" and not settings.USE_TZ:
        return None
    return _PLAIN_TYPES.get(kind) or (_PLAIN_ON_POSTGRESQL.get(kind) if vendor == "postgresql" else None)


Preparer = Callable[[Any, Any], Any]  # (value, connection) -> what the database takes


def _value_preparer(field: models.Field, vendor: str) -> Preparer:
    """How a value of ``field`` is made ready for the database: by the field, unless it is
    nothing or already of the field's plain type (then preparing it would change nothing)."""

    def prepared(value: Any, connection: Any) -> Any:
        return field.get_db_prep_save(value, connection)

    plain = _plain_type(field, vendor)
    if plain is None and _stock(field):  # Django's own fields keep None as NULL
        return lambda value, connection: None if value is None else prepared(value, connection)
    if plain is None:
        return prepared
    if plain is dt.datetime:  # aware as it is; a naive one Django makes aware (and warns)
        return lambda value, connection: (
            value if value is None or (type(value) is dt.datetime and value.tzinfo) else prepared(value, connection)
        )
    return lambda value, connection: value if value is None or type(value) is plain else prepared(value, connection)


@cache
def _columns(model: type[models.Model], vendor: str) -> tuple[tuple[models.Field, ...], tuple[Preparer, ...]]:
    """The model's columns but its key, and how each one's values are prepared."""
    if not isinstance(model._meta.pk, models.AutoField):
        raise TypeError(f"bulk inserts need an auto-incremented key; {model._meta.label} has none")
    computed = [f.name for f in model._meta.concrete_fields if not _stamps(f) and not _stock_pre_save(f)]
    if computed:
        raise TypeError(f"{model._meta.label}: save() computes {computed}; bulk inserts cannot")
    fields = tuple(field for field in model._meta.concrete_fields if not field.primary_key)
    return fields, tuple(_value_preparer(field, vendor) for field in fields)


def _stock_pre_save(field: models.Field) -> bool:
    return type(field).pre_save.__module__.startswith("django.")


def insert_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    count: int | None = None,
    at_most: int | None = None,
    using: str | None = None,
) -> list[int]:
    """Insert rows given as values of ``fields`` (attribute names: ``owner_id``, not
    ``owner``) and return their new keys, in order. Every other field takes its default;
    ``auto_now``/``auto_now_add`` fields not given, one time for the whole lot.

    ``rows`` may be a generator, with ``count`` saying how many it gives, or ``at_most``
    how many it may give (a generator that decides as it goes: PostgreSQL then draws that
    many keys and leaves the unused ones as gaps, as a rolled-back insert does). On
    PostgreSQL the generator runs while the rows stream to the server, so the server
    stores the first rows while Python makes the next ones (the two cores work at once)."""
    if count is not None and at_most is not None:
        raise TypeError("give count or at_most, not both")
    if count is None and at_most is None:
        rows = list(rows)
        count = len(rows)
    if not (count if at_most is None else at_most):
        return []
    connection = connections[using or router.db_for_write(model)]
    columns, preparers = _columns(model, connection.vendor)
    position = {field.attname: index for index, field in enumerate(columns)}
    given = [position[name] for name in fields]  # KeyError: not a field of the model
    template = [
        prepare(timezone.now() if _stamps(field) else field.get_default(), connection)
        for field, prepare in zip(columns, preparers, strict=True)
    ]
    fresh = [  # defaults made anew for each row (a list, a dict…)
        (index, field, preparers[index])
        for index, field in enumerate(columns)
        if index not in given and callable(field.default) and not _stamps(field)
    ]
    steps = [(index, preparers[index]) for index in given]

    def values(row: Sequence[Any]) -> list[Any]:
        out = template.copy()
        for (index, prepare), value in zip(steps, row, strict=True):
            out[index] = prepare(value, connection)
        for index, field, prepare in fresh:
            out[index] = prepare(field.get_default(), connection)
        return out

    keys = count if at_most is None else at_most
    prepared_rows = (values(row) for row in _counted(rows, keys, exactly=at_most is None))
    # Django's wrapper turns the driver's errors into its own (IntegrityError…), as for any query.
    with connection.cursor() as cursor, connection.wrap_database_errors:
        if connection.vendor == "postgresql":
            return _copy(cursor, model, columns, prepared_rows, keys)
        return _insert_returning(cursor, model, columns, prepared_rows, connection.features.max_query_params)


def _counted(rows: Iterable[Sequence[Any]], limit: int, *, exactly: bool) -> Iterator[Sequence[Any]]:
    given = 0
    for row in rows:
        given += 1
        if given > limit:
            raise ValueError(f"more rows than the {limit} announced")
        yield row
    if exactly and given != limit:
        raise ValueError(f"{given} rows, not the {limit} announced")


def _copy(
    cursor: Any, model: type[models.Model], columns: Sequence[models.Field], rows: Iterator[list[Any]], keys: int
) -> list[int]:
    """PostgreSQL: ``keys`` keys from the table's own sequence (what the inserts would
    have drawn), then ``COPY`` with the key first; the keys of the rows written."""
    meta = model._meta
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
        [meta.db_table, meta.pk.column, keys],
    )
    ids = [pk for (pk,) in cursor.fetchall()]
    quote = cursor.db.ops.quote_name
    names = ", ".join(quote(column) for column in [meta.pk.column, *(field.column for field in columns)])
    written = 0
    with cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({names}) FROM STDIN") as copy:
        for row in rows:  # never more than the keys: _counted raises first
            copy.write_row([ids[written], *row])
            written += 1
    return ids[:written]


def _insert_returning(
    cursor: Any, model: type[models.Model], columns: Sequence[models.Field], rows: Iterator[list[Any]], limit: int
) -> list[int]:
    """Elsewhere (SQLite): multi-row ``INSERT … RETURNING`` within the driver's parameter
    limit; the keys come back in the order of the rows, as ``bulk_create`` relies on too."""
    meta = model._meta
    quote = cursor.db.ops.quote_name
    names = ", ".join(quote(field.column) for field in columns)
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    per_statement = max(1, limit // len(columns))
    ids: list[int] = []
    rows = iter(rows)
    while chunk := list(itertools.islice(rows, per_statement)):
        cursor.execute(
            f"INSERT INTO {quote(meta.db_table)} ({names}) VALUES {', '.join([one] * len(chunk))} "  # noqa: S608
            f"RETURNING {quote(meta.pk.column)}",
            [value for row in chunk for value in row],
        )
        ids += [pk for (pk,) in cursor.fetchall()]
    return ids


@contextmanager
def keys_checked_meanwhile(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """PostgreSQL checks the foreign keys this transaction has deferred so far while the
    block runs, instead of at commit: the block's Python (which should not need the
    database) and the server's checks run on the two cores at once. A dealer's file of
    2,000 bicycles has thousands of keys to check: at commit, with Python waiting, that
    was a fifth of the file's time. On leaving, it waits for the check — a broken key
    raises ``IntegrityError`` there — and defers the keys again, as Django declares them,
    for the rest of the transaction.

    Only for a caller whose writes so far are complete: a key the transaction means to put
    right later would be refused now. Outside a transaction, and on other databases,
    nothing happens."""
    connection = connections[using]
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        yield
        return
    driver = connection.connection  # psycopg's own connection: Django's is for this thread only
    failed: list[Exception] = []

    def check() -> None:
        try:
            driver.execute("SET CONSTRAINTS ALL IMMEDIATE")
        except Exception as error:  # raised again in the caller's thread
            failed.append(error)

    checker = threading.Thread(target=check, name="pingan-key-check")
    checker.start()  # psycopg waits for the server without holding the GIL
    try:
        yield
    finally:
        checker.join()
    with connection.wrap_database_errors:
        if failed:
            raise failed[0]
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


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
