"""Where a dataset's rows come from, and how DuckDB reads them without copying.

Supported: CSV/TSV (optionally compressed), Parquet (a file, a glob, or a hive-partitioned folder),
Arrow IPC / Feather, JSON lines, and a table inside an existing DuckDB database file.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from auditkit.data.fingerprint import Fingerprint, fingerprint_files
from auditkit.data.sql import quote_literal
from auditkit.errors import InputError

Format = Literal["csv", "parquet", "arrow", "jsonl", "duckdb"]
FORMATS: tuple[Format, ...] = ("csv", "parquet", "arrow", "jsonl", "duckdb")

_SUFFIX_FORMATS: dict[str, Format] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".arrow": "arrow",
    ".feather": "arrow",
    ".ipc": "arrow",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".duckdb": "duckdb",
    ".ddb": "duckdb",
    ".db": "duckdb",
}
_COMPRESSION_SUFFIXES = {".gz", ".zst"}
_TAB_SUFFIXES = {".tsv"}
TABLE_SEPARATOR = "::"


@dataclass(frozen=True)
class SourceSpec:
    """A dataset location as the user wrote it: a path (file, glob or folder), a format, a table."""

    path: str
    format: Format | None = None
    table: str | None = None
    rows: Any = field(default=None, compare=False)
    """Rows held in memory (a ``pyarrow.Table``) instead of a file, e.g. a policy test case's inline
    rows; ``path`` then only names them in messages."""

    @classmethod
    def in_memory(cls, label: str, rows: Any) -> SourceSpec:
        """A source over a ``pyarrow.Table``; ``label`` names it in messages."""
        return cls(path=label, format="arrow", rows=rows)

    @classmethod
    def parse(cls, text: str) -> SourceSpec:
        """Parse ``PATH`` or ``DATABASE.duckdb::TABLE`` as given on the command line."""
        if TABLE_SEPARATOR in text:
            path, table = text.rsplit(TABLE_SEPARATOR, 1)
            return cls(path=path, format="duckdb", table=table)
        return cls(path=text)


@dataclass(frozen=True)
class ResolvedSource:
    """A source whose files exist and whose format is known."""

    spec: SourceSpec
    format: Format
    files: tuple[Path, ...]
    root: Path | None
    pattern: str
    """What DuckDB reads: the file, the glob, or ``folder/**/*.parquet``."""
    hive_partitioned: bool = False

    @property
    def rows(self) -> Any:
        """The in-memory rows (a ``pyarrow.Table``) of a source that has no files, else ``None``."""
        return self.spec.rows

    def reader_sql(self) -> str:
        """A DuckDB table expression that reads this source lazily."""
        if self.format == "csv":
            # DuckDB's sniffer may pick ',' or ';' inside the values of a .tsv; the name says tab.
            delimiter = ", delim = '\t'" if self.is_tab_separated else ""
            return f"read_csv({quote_literal(self.pattern)}, header = true{delimiter})"
        if self.format == "parquet":
            hive = ", hive_partitioning = true" if self.hive_partitioned else ""
            return f"read_parquet({quote_literal(self.pattern)}{hive})"
        if self.format == "jsonl":
            # 'auto' reads JSON lines and also a .json file holding one array of records.
            return f"read_json({quote_literal(self.pattern)}, format = 'auto')"
        raise ValueError(f"{self.format} sources are not read through a table function")

    @property
    def is_tab_separated(self) -> bool:
        """Whether every file is named ``*.tsv`` (possibly compressed)."""
        return all(_base_suffix(file) in _TAB_SUFFIXES for file in self.files)

    def fingerprint(self) -> Fingerprint:
        if self.rows is not None:
            return _table_fingerprint(self.rows)
        return fingerprint_files(list(self.files), self.root)


def _table_fingerprint(table: Any) -> Fingerprint:
    """sha256 of the table in Arrow IPC stream format (the same rows and schema give the same digest)."""
    import hashlib

    import pyarrow as pa

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return Fingerprint(hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest(), ())


def resolve_source(spec: SourceSpec, base: Path | None = None) -> ResolvedSource:
    """Check that ``spec`` names existing files and decide how to read them."""
    if spec.rows is not None:
        return ResolvedSource(spec, "arrow", (), None, spec.path)
    raw = spec.path
    path = Path(raw).expanduser()
    if base is not None and not path.is_absolute():
        path = base / path
    if path.is_dir():
        return _resolve_folder(spec, path)
    if glob.has_magic(str(path)):
        return _resolve_glob(spec, path)
    if not path.exists():
        raise InputError(f"{raw}: no such file or folder")
    if not path.is_file():
        raise InputError(f"{raw}: not a regular file")
    if path.stat().st_size == 0:
        # DuckDB would read an empty CSV as one column named column0, and every role as not found.
        raise InputError(f"{raw}: the file is empty")
    data_format = spec.format or _format_from_name(path)
    if data_format is None:
        raise InputError(
            f"{raw}: cannot tell the format from the file name; name it in the project file "
            f"(data: {{current: {{path: ..., format: FORMAT}}}}, one of {', '.join(FORMATS)})"
        )
    if data_format == "duckdb" and not spec.table:
        raise InputError(
            f"{raw}: a DuckDB database needs a table, written as {raw}{TABLE_SEPARATOR}TABLE"
        )
    return ResolvedSource(spec, data_format, (path,), path.parent, str(path))


def _format_from_name(path: Path) -> Format | None:
    suffix = _base_suffix(path)
    return _SUFFIX_FORMATS.get(suffix) if suffix else None


def _base_suffix(path: Path) -> str | None:
    """The lower-case suffix that names the format, after any compression suffix."""
    suffixes = [suffix.lower() for suffix in path.suffixes]
    while suffixes and suffixes[-1] in _COMPRESSION_SUFFIXES:
        suffixes.pop()
    return suffixes[-1] if suffixes else None


def _resolve_glob(spec: SourceSpec, path: Path) -> ResolvedSource:
    # Path.glob cannot take an absolute pattern; glob.glob can.
    matches = glob.glob(str(path), recursive=True)  # noqa: PTH207
    files = tuple(sorted(Path(name) for name in matches if Path(name).is_file()))
    if not files:
        raise InputError(f"{spec.path}: the pattern matches no files")
    formats = {spec.format or _format_from_name(file) for file in files}
    if len(formats) != 1 or None in formats:
        raise InputError(f"{spec.path}: the pattern matches files of different or unknown formats")
    data_format = formats.pop()
    assert data_format is not None
    if data_format in ("arrow", "duckdb"):
        raise InputError(f"{spec.path}: {data_format} sources must be a single file")
    root = Path(_glob_root(str(path)))
    return ResolvedSource(spec, data_format, files, root, str(path))


def _glob_root(pattern: str) -> str:
    parts = Path(pattern).parts
    fixed = list(parts[: next(i for i, p in enumerate(parts) if glob.has_magic(p))])
    return str(Path(*fixed)) if fixed else "."


def _resolve_folder(spec: SourceSpec, folder: Path) -> ResolvedSource:
    files = tuple(sorted(file for file in folder.rglob("*.parquet") if file.is_file()))
    if not files:
        raise InputError(f"{spec.path}: the folder holds no .parquet files")
    hive = any("=" in part for file in files for part in file.relative_to(folder).parts[:-1])
    pattern = str(folder / "**" / "*.parquet")
    return ResolvedSource(spec, "parquet", files, folder, pattern, hive_partitioned=hive)
