"""A locked-down DuckDB connection for ``sql`` rules.

The connection sees only the views ``current`` and ``reference``: before it is handed out, DuckDB's
``allowed_paths`` is set to the registered input files, external access is disabled and the
configuration is locked, so ``read_csv('/etc/passwd')``, ``COPY``, ``ATTACH``, ``INSTALL`` and ``LOAD``
are refused by DuckDB itself. Only a single ``SELECT`` statement is accepted, and a timer interrupts
queries that run longer than their time limit.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb

from auditkit.data.datasets import Dataset
from auditkit.data.sql import quote_identifier, quote_literal
from auditkit.data.workspace import duckdb_message
from auditkit.duckdb_settings import quiet


class SqlRuleError(Exception):
    """A query of a ``sql`` rule was refused or failed; the message is shown in the finding."""


@dataclass
class SqlSandbox:
    """Read-only, file-less access to the registered datasets."""

    connection: duckdb.DuckDBPyConnection

    @classmethod
    def over(cls, datasets: Mapping[str, Dataset]) -> SqlSandbox:
        connection = quiet(duckdb.connect(":memory:"))
        allowed: list[str] = []
        for name, dataset in datasets.items():
            allowed += [str(path) for path in dataset.source.files]
            _define_view(connection, name, dataset)
        paths = ", ".join(quote_literal(path) for path in allowed)
        connection.execute(f"SET allowed_paths = [{paths}]")
        connection.execute("SET autoinstall_known_extensions = false")
        connection.execute("SET autoload_known_extensions = false")
        connection.execute("SET enable_external_access = false")
        connection.execute("SET lock_configuration = true")
        return cls(connection)

    def scalar(self, query: str, timeout_seconds: float = 30.0) -> float | None:
        """Run one SELECT and return its single numeric value (``None`` for SQL NULL)."""
        with self._time_limited(query, timeout_seconds):
            rows = self.connection.execute(query).fetchmany(2)
        return _single_number(rows)

    @contextmanager
    def _time_limited(self, query: str, timeout_seconds: float) -> Iterator[None]:
        """One SELECT only; interrupted past ``timeout_seconds``; DuckDB errors as one-line rule errors."""
        _require_single_select(query)
        timer = threading.Timer(timeout_seconds, self.connection.interrupt)
        timer.start()
        try:
            yield
        except duckdb.InterruptException:
            raise SqlSandboxTimeout(
                f"query exceeded its time limit of {timeout_seconds:g} s (or was cancelled)"
            ) from None
        except duckdb.Error as error:
            raise SqlRuleError(duckdb_message(error)) from None
        finally:
            timer.cancel()

    def table(self, query: str, max_rows: int, timeout_seconds: float = 30.0) -> QueryTable:
        """Run one SELECT and return at most ``max_rows`` of its rows (the terminal UI's SQL console)."""
        with self._time_limited(query, timeout_seconds):
            result = self.connection.execute(query)
            rows = result.fetchmany(max_rows + 1)
        columns = tuple(str(item[0]) for item in result.description or [])
        return QueryTable(columns, tuple(rows[:max_rows]), truncated=len(rows) > max_rows)

    def interrupt(self) -> None:
        """Stop the running query (from another thread)."""
        self.connection.interrupt()

    def close(self) -> None:
        self.connection.close()


@dataclass(frozen=True)
class QueryTable:
    """The first rows of a query's result; ``truncated`` when it had more."""

    columns: tuple[str, ...]
    rows: tuple[tuple[object, ...], ...]
    truncated: bool


class SqlSandboxTimeout(SqlRuleError):
    """The query ran past its time limit."""


def _define_view(connection: duckdb.DuckDBPyConnection, name: str, dataset: Dataset) -> None:
    source = dataset.source
    if source.rows is not None:
        connection.register(f"__arrow_{name}", source.rows)
        relation = quote_identifier(f"__arrow_{name}")
    elif source.format == "arrow":
        import pyarrow.dataset as arrow_dataset

        connection.register(
            f"__arrow_{name}", arrow_dataset.dataset([str(f) for f in source.files], format="ipc")
        )
        relation = quote_identifier(f"__arrow_{name}")
    elif source.format == "duckdb":
        alias = quote_identifier(f"__db_{name}")
        connection.execute(f"ATTACH {quote_literal(str(source.files[0]))} AS {alias} (READ_ONLY)")
        relation = f"{alias}.{quote_identifier(source.spec.table or '')}"
    else:
        relation = source.reader_sql()
    where = f" WHERE ({dataset.where})" if dataset.where else ""
    connection.execute(f"CREATE VIEW {quote_identifier(name)} AS SELECT * FROM {relation}{where}")


def _require_single_select(query: str) -> None:
    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as error:
        raise SqlRuleError(f"cannot parse the query: {duckdb_message(error)}") from None
    if len(statements) != 1:
        raise SqlRuleError(f"the query must be one statement, found {len(statements)}")
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        raise SqlRuleError(f"only SELECT queries are allowed, not {kind.name}")


def _single_number(rows: list[tuple[object, ...]]) -> float | None:
    if len(rows) != 1 or len(rows[0]) != 1:
        raise SqlRuleError("the query must return exactly one row with one column")
    value = rows[0][0]
    if value is None:
        return None
    if isinstance(value, bool):
        return float(value)
    if not isinstance(value, int | float):
        try:
            return float(str(value))
        except ValueError:
            raise SqlRuleError(f"the query returned {value!r}, not a number") from None
    return float(value)
