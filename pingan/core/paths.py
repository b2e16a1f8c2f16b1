"""Materialised paths: every org unit stores the codes of its ancestors and itself,
``37/3701/370102/370102001/``. "Everything under Jinan" is then one index range scan:
``filter(org__path__under="37/3701/")``.

On PostgreSQL the ``under`` lookup is a ``LIKE 'prefix%'`` served by the pattern-ops
index Django creates beside every indexed CharField (collation-independent); on SQLite
it is a half-open range on the binary-collated index.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Lookup

# Larger than any character a path holds (ASCII codes and "/"), as UTF-8 bytes too.
PATH_END = "\uffff"


@models.CharField.register_lookup
class PathUnder(Lookup):
    lookup_name = "under"

    def as_sql(self, compiler, connection):  # type: ignore[override]
        lhs, lhs_params = self.process_lhs(compiler, connection)
        prefix = self.rhs
        return f"({lhs} >= %s AND {lhs} < %s)", [*lhs_params, prefix, prefix + PATH_END]

    def as_postgresql(self, compiler, connection):  # type: ignore[override]
        lhs, lhs_params = self.process_lhs(compiler, connection)
        escaped = self.rhs.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return f"{lhs}::text LIKE %s", [*lhs_params, escaped + "%"]
