"""Case-insensitive lookups that know more than ASCII on SQLite.

SQLite's LIKE, which Django uses for ``iexact`` and ``icontains``, folds the case of ASCII
letters only: "überlingen" would not find "Überlingen", and "Ärger" and "ärger" would be two
different tags. On SQLite these lookups compare ``str.casefold()`` of both sides instead (a
Python function registered on every connection) whenever the value has a non-ASCII letter;
pure ASCII values keep the fast built-in LIKE, which gives the same answer for them.
PostgreSQL's UPPER/LIKE already handles Unicode and keeps Django's SQL.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.signals import connection_created
from django.db.models import CharField, Lookup, TextField
from django.db.models.functions import Length
from django.db.models.lookups import IContains, IExact

CASEFOLD_FUNCTION = "farley_casefold"


def _casefold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def register_sqlite_function(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_function(CASEFOLD_FUNCTION, 1, _casefold, deterministic=True)


def _needs_casefold(lookup: Lookup) -> bool:
    value = lookup.rhs
    return isinstance(value, str) and not value.isascii()


class UnicodeIExact(IExact):
    def as_sqlite(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        if not _needs_casefold(self):
            return super().as_sql(compiler, connection)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{CASEFOLD_FUNCTION}({lhs}) = %s", [*lhs_params, self.rhs.casefold()]


class UnicodeIContains(IContains):
    def as_sqlite(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        if not _needs_casefold(self):
            return super().as_sql(compiler, connection)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"instr({CASEFOLD_FUNCTION}({lhs}), %s) > 0", [*lhs_params, self.rhs.casefold()]


def install() -> None:
    connection_created.connect(register_sqlite_function, dispatch_uid=CASEFOLD_FUNCTION)
    for field in (CharField, TextField):
        field.register_lookup(UnicodeIExact)
        field.register_lookup(UnicodeIContains)
    CharField.register_lookup(Length)  # postal_code__length=5
