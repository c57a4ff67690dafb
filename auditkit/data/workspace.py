"""A DuckDB workspace: every dataset is a view over its files, nothing is copied."""

from __future__ import annotations

import contextlib
import csv
import re
from typing import Any

import duckdb

from auditkit.data.sources import ResolvedSource
from auditkit.data.sql import quote_identifier, quote_literal
from auditkit.duckdb_settings import quiet
from auditkit.errors import InputError

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# DuckDB puts the reason of a CSV error on a later line, after the line number and the raw line.
_HEADLINE_ONLY = re.compile(r"CSV Error on Line: \d+$|Error when sniffing file .*\.$")
_DETAIL_NOISE = ("Original Line:", "LINE ")
_SNIFFING_FAILED = "Error when sniffing file"
_DELIMITERS = ",;|\t"
_UNLIKELY_DELIMITER = "\x1f"
"""The ASCII unit separator: reading a CSV with it as the delimiter gives each line as one value."""


def duckdb_message(error: Exception) -> str:
    """A DuckDB error as one line: its first line, plus the reason when DuckDB puts it further down."""
    lines = [line.strip() for line in str(error).strip().splitlines()]
    if not lines or not lines[0]:
        return type(error).__name__
    headline = lines[0]
    if _HEADLINE_ONLY.search(headline):
        detail = next(
            (line for line in lines[1:] if line and not line.startswith(_DETAIL_NOISE)), None
        )
        if detail:
            return f"{headline}: {detail}"
    return headline


class Workspace:
    """One DuckDB connection holding the registered datasets as views.

    ``memory_limit`` and ``temp_directory`` let aggregates over data larger than memory spill to disk.
    """

    def __init__(
        self,
        database: str = ":memory:",
        *,
        threads: int | None = None,
        memory_limit: str | None = None,
        temp_directory: str | None = None,
    ) -> None:
        self.connection = quiet(duckdb.connect(database))
        if threads:
            self.connection.execute(f"SET threads = {int(threads)}")
        if memory_limit:
            self.connection.execute(f"SET memory_limit = {quote_literal(memory_limit)}")
        if temp_directory:
            self.connection.execute(f"SET temp_directory = {quote_literal(temp_directory)}")
        # Row order of views over files stays the files' order: paging and scoring rely on it.
        self.connection.execute("SET preserve_insertion_order = true")
        self.sources: dict[str, ResolvedSource] = {}

    def register(self, name: str, source: ResolvedSource, *, where: str | None = None) -> None:
        """Create (or replace) the view ``name`` over ``source``, filtered by ``where``."""
        if not _NAME.match(name):
            raise InputError(f"{name!r} is not a valid dataset name (letters, digits and _)")
        relation = self._relation_sql(name, source)
        # The newline ends a trailing "-- comment" in the predicate before the closing parenthesis.
        filter_sql = f" WHERE ({where}\n)" if where else ""
        view = quote_identifier(name)
        try:
            self.connection.execute(
                f"CREATE OR REPLACE VIEW {view} AS SELECT * FROM {relation}{filter_sql}"
            )
            self.connection.execute(f"DESCRIBE {view}").fetchall()
        except duckdb.Error as error:
            self._drop_quietly(name)
            where_note = f" (with where: {' '.join(where.split())})" if where else ""
            reason = duckdb_message(error)
            if source.format == "csv" and _SNIFFING_FAILED in reason:
                reason = self.misfit_csv_line(source) or reason
            raise InputError(f"{source.spec.path}: cannot read{where_note}: {reason}") from None
        self.sources[name] = source

    def misfit_csv_line(self, source: ResolvedSource) -> str | None:
        """DuckDB's reason, naming the line, why a CSV does not read as the table its header describes.

        When a row has more or fewer fields than the header, DuckDB's sniffer gives up without saying
        where (or reads each whole line as one column). Read strictly, with the header's delimiter and
        one text column per header field, DuckDB names the first line that does not fit.
        """
        header = self._first_line(source)
        if not header:
            return None
        delimiter = "\t" if source.is_tab_separated else max(_DELIMITERS, key=header.count)
        if delimiter not in header:
            return None
        fields = next(csv.reader([header], delimiter=delimiter))
        columns = ", ".join(f"'column{index}': 'VARCHAR'" for index in range(len(fields)))
        try:
            self.connection.execute(
                f"SELECT count(*) FROM read_csv({quote_literal(source.pattern)}, auto_detect = false, "
                f"header = true, delim = {quote_literal(delimiter)}, quote = '\"', escape = '\"', "
                f"columns = {{{columns}}})"
            ).fetchall()
        except duckdb.Error as error:
            return duckdb_message(error)
        return None

    def _first_line(self, source: ResolvedSource) -> str | None:
        try:
            rows = self.connection.execute(
                f"SELECT line FROM read_csv({quote_literal(source.pattern)}, auto_detect = false, "
                f"header = false, delim = {quote_literal(_UNLIKELY_DELIMITER)}, quote = '', "
                "escape = '', columns = {'line': 'VARCHAR'}) LIMIT 1"
            ).fetchall()
        except duckdb.Error:
            return None
        return rows[0][0] if rows else None

    def _relation_sql(self, name: str, source: ResolvedSource) -> str:
        if source.rows is not None:
            arrow_name = f"__arrow_{name}"
            # Registering an object needs no open result (a validation query read with fetchone()).
            self.connection.abort()
            self.connection.register(arrow_name, source.rows)
            return quote_identifier(arrow_name)
        if source.format == "arrow":
            return self._register_arrow(name, source)
        if source.format == "duckdb":
            return self._attach_duckdb(name, source)
        return source.reader_sql()

    def _register_arrow(self, name: str, source: ResolvedSource) -> str:
        import pyarrow.dataset as arrow_dataset

        try:
            dataset = arrow_dataset.dataset([str(file) for file in source.files], format="ipc")
        except Exception as error:  # pyarrow raises several unrelated types for a bad file
            raise InputError(
                f"{source.spec.path}: not a readable Arrow IPC / Feather file: "
                f"{duckdb_message(error)}"
            ) from None
        arrow_name = f"__arrow_{name}"
        self.connection.register(arrow_name, dataset)
        return quote_identifier(arrow_name)

    def _attach_duckdb(self, name: str, source: ResolvedSource) -> str:
        alias = f"__db_{name}"
        self.connection.execute(f"DETACH DATABASE IF EXISTS {quote_identifier(alias)}")
        try:
            self.connection.execute(
                f"ATTACH {quote_literal(str(source.files[0]))} AS {quote_identifier(alias)} (READ_ONLY)"
            )
        except duckdb.Error as error:
            raise InputError(
                f"{source.spec.path}: not a readable DuckDB database: {duckdb_message(error)}"
            ) from None
        assert source.spec.table is not None
        tables = [
            row[0]
            for row in self.connection.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = $alias "
                "UNION ALL SELECT view_name FROM duckdb_views() "
                "WHERE database_name = $alias AND NOT internal ORDER BY 1",
                {"alias": alias},
            ).fetchall()
        ]
        if source.spec.table not in tables:
            from auditkit.yamlsource import did_you_mean

            raise InputError(
                f"{source.spec.path}: no table {source.spec.table!r}{did_you_mean(source.spec.table, tables)}"
            )
        return f"{quote_identifier(alias)}.{quote_identifier(source.spec.table)}"

    def _drop_quietly(self, name: str) -> None:
        with contextlib.suppress(duckdb.Error):
            self.connection.execute(f"DROP VIEW IF EXISTS {quote_identifier(name)}")

    def record_batches(self, sql: str, batch_size: int) -> Any:
        """Stream the result of ``sql`` as Arrow record batches of at most ``batch_size`` rows."""
        # DuckDB will not stream while a result read with fetchone() is still open; discard it.
        self.connection.abort()
        return self.connection.sql(sql).to_arrow_reader(batch_size)

    def columns(self, name: str) -> dict[str, str]:
        """Column names of view ``name`` with their DuckDB types, in order."""
        rows = self.connection.execute(f"DESCRIBE {quote_identifier(name)}").fetchall()
        return {row[0]: row[1] for row in rows}

    def row_count(self, name: str) -> int:
        result = self.connection.execute(
            f"SELECT count(*) FROM {quote_identifier(name)}"
        ).fetchone()
        assert result is not None
        return int(result[0])

    def query(self, sql: str, parameters: list[Any] | None = None) -> list[tuple[Any, ...]]:
        return self.connection.execute(sql, parameters or []).fetchall()

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
