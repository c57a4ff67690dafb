"""The open project as the terminal UI sees it: every engine call the screens need, and its results.

Nothing here imports Textual. Every method that touches data blocks, and is meant to run in a thread
worker; the screens only display what these methods return. DuckDB connections are not safe for
concurrent use from several threads, so each connection is guarded by its own lock: the workspace's
(metrics, drift, quality), a second cursor for browsing pages and profiles, and the SQL sandbox's.
``interrupt`` stops whatever query is running, for the cancel key.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditkit.errors import ConfigError, ConfigErrors, UsageError
from auditkit.project import DEFAULT_PROJECT_FILE, Overrides, Project, load_project

if TYPE_CHECKING:
    import duckdb

    from auditkit.check import CheckResult
    from auditkit.data.browse import ColumnProfile, Page
    from auditkit.data.guess import RoleGuess
    from auditkit.engine import LoadedProject
    from auditkit.explain.report import ExplanationReport
    from auditkit.metrics import MetricReport
    from auditkit.metrics.drift import DriftReport
    from auditkit.metrics.quality import QualityReport
    from auditkit.policy.loader import Policy
    from auditkit.policy.sandbox import QueryTable, SqlSandbox
    from auditkit.policy.waivers import WaiverEntry, WaiverSet
    from auditkit.progress import Progress
    from auditkit.report.render import Progress as ReportProgress
    from auditkit.trail import StoredRun, TrailStore
    from auditkit.trail.verify import Verification

SQL_MAX_ROWS = 500
DEFAULT_WAIVERS_FILE = "waivers.yaml"


class QueryRefused(UsageError):
    """The SQL console refused or could not run a query (read-only, no files, one SELECT)."""


@dataclass(frozen=True)
class WaiverForm:
    """What the waiver form collects, as text; validated by :class:`WaiverEntry`."""

    id: str
    rule: str
    justification: str
    approved_by: str
    expires: str
    scope_model: str = ""
    scope_dataset: str = ""


@dataclass(frozen=True)
class SignoffForm:
    """The reviewer's decision on the current run, as the sign-off form collects it."""

    reviewer: str
    decision: str
    comment: str = ""


@dataclass(frozen=True)
class ReportForm:
    """Where the report goes and, to sign it, the key, certificate and passphrase files (paths as typed,
    relative to the project's folder)."""

    folder: str
    key: str = ""
    certificate: str = ""
    passphrase_file: str = ""


@dataclass(frozen=True)
class BuiltReport:
    """A report written for a stored run: its folder, files with their sha256, and who signed it."""

    run_id: str
    folder: Path
    files: tuple[dict[str, str], ...]
    signer: str | None


@dataclass(frozen=True)
class Explanation:
    """The model's explanation, or why there is none (no model; the explainer failed)."""

    report: ExplanationReport | None
    reason: str | None


class AuditSession:
    """One project opened in the terminal UI."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.project: Project = load_project(config, Overrides(), search_cwd=False)
        self.loaded: LoadedProject | None = None
        self.check: CheckResult | None = None
        self.run_id: str | None = None
        """The audit-trail id of the check shown, once it is recorded."""
        self.record_error: str | None = None
        self.policies: tuple[Policy, ...] = ()
        self._metrics: dict[tuple[str, ...], MetricReport] = {}
        self._drift: DriftReport | None = None
        self._quality: QualityReport | None = None
        self._explanation: Explanation | None = None
        self._sandbox: SqlSandbox | None = None
        self._browser: duckdb.DuckDBPyConnection | None = None
        self._workspace_lock = threading.Lock()
        self._browse_lock = threading.Lock()
        self._sandbox_lock = threading.Lock()

    # -- opening and checking ------------------------------------------------------------------

    def open(self) -> LoadedProject:
        """Register the datasets in a workspace (no model load: the check records the model)."""
        from auditkit.engine import open_project

        with self._workspace_lock:
            if self.loaded is None:
                self.loaded = open_project(self.project, require_decisions=False)
            return self.loaded

    def run_check(self) -> CheckResult:
        """Evaluate the policies with the waivers and record the run in the project's audit trail,
        as ``auditkit check`` does, so that sign-off, report and history refer to a stored run.

        A run that cannot be recorded (the store is locked, say) still shows its verdict;
        ``record_error`` says why it has no run id.
        """
        from auditkit.engine import audit_project
        from auditkit.errors import AuditkitError
        from auditkit.policy.loader import load_policies
        from auditkit.trail import record_check

        policies = load_policies(self.project.policies, self.project.base)
        run = audit_project(self.project)
        self.policies, self.check = policies, run.result
        self.run_id, self.record_error = None, None
        try:
            self.run_id = record_check(self.project, run).run_id
        except AuditkitError as error:
            self.record_error = f"not recorded in the audit trail: {error}"
        return run.result

    def reload(self) -> None:
        """Read the project file again (after it changed on disk) and forget computed results."""
        self.project = load_project(self.config, Overrides(), search_cwd=False)
        self.close()
        self.loaded = None
        self._metrics.clear()
        self._drift = self._quality = None
        self._explanation = None

    # -- evidence ------------------------------------------------------------------------------

    def metrics(self, grouping: tuple[str, ...]) -> MetricReport:
        """Every applicable metric overall and by ``grouping`` (``()``: overall only)."""
        from auditkit.engine import compute_project_metrics

        if grouping not in self._metrics:
            loaded = self.open()
            with self._workspace_lock:
                self._metrics[grouping] = compute_project_metrics(
                    loaded,
                    by=[grouping] if grouping else [],
                    min_group_size=self.min_group_size,
                )
        return self._metrics[grouping]

    @property
    def min_group_size(self) -> int:
        """The smallest minimum group size the project's policies use (30 without policies)."""
        sizes = [rule.min_group_size for policy in self.policies for rule in policy.rules]
        return min(sizes, default=30)

    def drift(self) -> DriftReport | None:
        """Drift of every feature against the reference data; ``None`` without a reference."""
        from auditkit.metrics.drift import compute_drift

        loaded = self.open()
        if loaded.reference is None:
            return None
        with self._workspace_lock:
            if self._drift is None:
                self._drift = compute_drift(loaded.workspace, loaded.reference, loaded.current)
        return self._drift

    def quality(self) -> QualityReport:
        from auditkit.metrics.quality import compute_data_quality

        loaded = self.open()
        with self._workspace_lock:
            if self._quality is None:
                self._quality = compute_data_quality(
                    loaded.workspace, loaded.current, loaded.reference
                )
        return self._quality

    def explanation(self, progress: Progress | None = None, *, again: bool = False) -> Explanation:
        """SHAP importance, group differences, proxies and reason codes on a seeded sample of the
        current data (kept for the session; ``again`` computes it anew)."""
        from auditkit.engine import explain_project

        if self._explanation is None or again:
            loaded = self.open()
            with self._workspace_lock:
                report, missing = explain_project(loaded, progress=progress)
            self._explanation = Explanation(report, missing[1] if missing else None)
        return self._explanation

    # -- audit trail -----------------------------------------------------------------------------

    def trail(self) -> TrailStore:
        from auditkit.trail import TrailStore

        return TrailStore(self.project.store)

    def current_run(self) -> str:
        """The id of the check run on screen; a usage error while it is not recorded."""
        if self.run_id is None:
            raise UsageError(
                self.record_error
                or "no recorded run yet: wait for the check to finish (r runs it again)"
            )
        return self.run_id

    def sign_off(self, form: SignoffForm) -> dict[str, Any]:
        """Record the reviewer's decision on the current run in the audit trail."""
        run_id = self.current_run()
        signoff = validate_signoff(form)
        self.trail().append_signoff(run_id, **signoff)
        return signoff

    def build_report(self, form: ReportForm, progress: ReportProgress | None = None) -> BuiltReport:
        """Render the current run's report (signed when a key is given) into the chosen folder, and
        record it in the audit trail, as ``auditkit report`` does."""
        from auditkit.report.build import build_report

        run_id = self.current_run()
        folder, signer = self.report_settings(form)
        store = self.trail()
        stored = store.load_run(run_id)
        files, signed_by = build_report(
            stored.document,
            folder,
            signoffs=stored.signoffs,
            signer=signer,
            progress=progress,
            trail_anchor=store.anchor,
            record=store.report_recorder(run_id),
        )
        return BuiltReport(run_id, folder, tuple(files), signed_by)

    def report_settings(self, form: ReportForm) -> tuple[Path, Any]:
        """The report folder and signer of ``form``; a clear error for an incomplete key pair or an
        unreadable passphrase file (before any rendering starts)."""
        from auditkit.report.keys import SignerConfig, load_signer, read_passphrase_file

        folder = self._path(form.folder) if form.folder.strip() else self.default_report_folder
        key, certificate = form.key.strip(), form.certificate.strip()
        if bool(key) != bool(certificate):
            raise UsageError(
                "to sign the report give both the private key and its certificate "
                "(auditkit keygen makes a trial pair), or neither for an unsigned report"
            )
        if not key:
            if form.passphrase_file.strip():
                raise UsageError("a passphrase file is only used with a signing key")
            return folder, None
        passphrase = (
            read_passphrase_file(self._path(form.passphrase_file))
            if form.passphrase_file.strip()
            else None
        )
        signer = SignerConfig(
            key=self._path(key), certificate=self._path(certificate), passphrase=passphrase
        )
        load_signer(
            signer
        )  # a wrong passphrase or a mismatched pair fails here, not after rendering
        return folder, signer

    @property
    def default_report_folder(self) -> Path:
        return self.project.base / "report"

    def _path(self, typed: str) -> Path:
        path = Path(typed.strip()).expanduser()
        return path if path.is_absolute() else self.project.base / path

    def history(self, limit: int = 50) -> list[StoredRun]:
        """The newest stored runs, newest first (none before the first recorded check)."""
        store = self.trail()
        return store.recent_runs(limit) if store.path.exists() else []

    def diff(self, before: str, after: str) -> dict[str, Any]:
        """What changed from run ``before`` to run ``after`` (``auditkit diff``)."""
        from auditkit.trail.diff import diff_runs

        store = self.trail()
        return diff_runs(store.load_run(before), store.load_run(after))

    def verify_trail(self) -> Verification | None:
        """The trail's hash chain re-checked; ``None`` when nothing is recorded yet."""
        store = self.trail()
        return store.verify() if store.path.exists() else None

    # -- data ----------------------------------------------------------------------------------

    def views(self) -> list[str]:
        """The datasets registered in the workspace (``current``, ``reference``)."""
        return list(self.open().workspace.sources)

    def page(self, view: str, offset: int, limit: int, total: int | None = None) -> Page:
        from auditkit.data.browse import read_page

        with self._browse_lock:
            return read_page(
                self._browse_connection(), view, offset=offset, limit=limit, total=total
            )

    def profile(self, view: str) -> tuple[ColumnProfile, ...]:
        from auditkit.data.browse import profile_columns

        with self._browse_lock:
            return profile_columns(self._browse_connection(), view)

    def _browse_connection(self) -> duckdb.DuckDBPyConnection:
        # A cursor of the workspace's database: it sees the same views but runs beside the metrics.
        if self._browser is None:
            self._browser = self.open().workspace.connection.cursor()
        return self._browser

    def sql(self, query: str) -> QueryTable:
        """Run a read-only query in the sandbox that ``sql`` rules use (no file or network access)."""
        from auditkit.engine import CURRENT, REFERENCE
        from auditkit.policy.sandbox import SqlRuleError, SqlSandbox

        if not query.strip():
            raise UsageError("type a SELECT query over current (and reference)")
        with self._sandbox_lock:
            if self._sandbox is None:
                loaded = self.open()
                datasets = {CURRENT: loaded.current}
                if loaded.reference is not None:
                    datasets[REFERENCE] = loaded.reference
                self._sandbox = SqlSandbox.over(datasets)
            try:
                return self._sandbox.table(query, SQL_MAX_ROWS)
            except SqlRuleError as error:
                raise QueryRefused(f"query refused: {error}") from None

    def interrupt(self) -> None:
        """Stop the queries running on every connection (the worker that ran them is cancelled)."""
        connections: list[Any] = [self._browser, self._sandbox]
        if self.loaded is not None:
            connections.append(self.loaded.workspace.connection)
        for connection in connections:
            if connection is not None:
                connection.interrupt()

    # -- waivers -------------------------------------------------------------------------------

    @property
    def waivers_path(self) -> Path:
        """The project's waivers file, or where the first waiver will be written."""
        return self.project.waivers or self.project.base / DEFAULT_WAIVERS_FILE

    def waivers(self) -> WaiverSet:
        from auditkit.policy.waivers import load_waivers

        path = self.project.waivers
        return load_waivers(path if path is not None and path.is_file() else None)

    def save_waiver(self, form: WaiverForm, *, replaces: str | None = None) -> WaiverEntry:
        """Validate ``form``, write it to the waivers file (linking the file from the project file
        when it is the first waiver) and re-read the project. Run the check again afterwards."""
        from auditkit.policy.waiver_edit import save_waiver
        from auditkit.project import link_waivers_file

        entry = validate_waiver(form)
        path = self.waivers_path
        save_waiver(path, entry, replaces=replaces)
        if self.project.waivers is None and self.project.path is not None:
            link_waivers_file(self.project.path, _relative_to(path, self.project.base))
            self.project = load_project(self.config, Overrides(), search_cwd=False)
        return entry

    def remove_waiver(self, waiver_id: str) -> None:
        from auditkit.policy.waiver_edit import remove_waiver

        remove_waiver(self.waivers_path, waiver_id)

    def close(self) -> None:
        for resource in (self._browser, self._sandbox):
            if resource is not None:
                resource.close()
        self._browser = None
        self._sandbox = None
        if self.loaded is not None:
            self.loaded.workspace.close()


def validate_waiver(form: WaiverForm) -> WaiverEntry:
    """The form as a :class:`WaiverEntry`, or a :class:`ConfigErrors` naming each bad field."""
    from pydantic import ValidationError

    from auditkit.policy.waivers import WaiverEntry

    scope = {
        key: value.strip()
        for key, value in (("model", form.scope_model), ("dataset", form.scope_dataset))
        if value.strip()
    }
    data: dict[str, Any] = {
        "id": form.id.strip(),
        "rule": form.rule.strip(),
        "scope": scope,
        "justification": form.justification.strip(),
        "approved_by": form.approved_by.strip(),
        "expires": form.expires.strip(),
        "created": date.today(),
    }
    try:
        return WaiverEntry.model_validate(data)
    except ValidationError as error:
        problems = [
            ConfigError(f"{'.'.join(str(p) for p in item['loc'])}: {_form_problem(item, data)}")
            for item in error.errors()
        ]
        raise ConfigErrors(list(problems)) from None


def _form_problem(item: Any, data: dict[str, Any]) -> str:
    """A field left empty is "required", whatever pattern or length its value must have."""
    field = item["loc"][0] if item["loc"] else None
    return "required" if field in data and data[field] == "" else str(item["msg"])


def validate_signoff(form: SignoffForm) -> dict[str, Any]:
    """The sign-off as ``append_signoff`` takes it, or an error naming the field that is missing (the
    trail's rule, the same as ``auditkit signoff``'s)."""
    from auditkit.trail import checked_signoff

    return asdict(checked_signoff(form.reviewer, form.decision, form.comment))


def find_project_file(folder: Path) -> Path | None:
    """``folder/auditkit.yaml`` when it exists."""
    candidate = folder / DEFAULT_PROJECT_FILE
    return candidate if candidate.is_file() else None


def _relative_to(path: Path, base: Path) -> str:
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path.resolve())


# -- a new project ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewProject:
    """What the start screen collects to write a project file."""

    data: str
    label: str | None = None
    prediction: str | None = None
    score: str | None = None
    threshold: float | None = None
    sensitive: tuple[str, ...] = ()
    positive_label: str = "1"
    reference: str | None = None
    model: str | None = None
    policies: tuple[str, ...] = ()


def inspect_dataset(path: str) -> RoleGuess:
    """Columns and guessed roles of a dataset, as ``auditkit init`` guesses them."""
    from auditkit.data import ColumnRoles, SourceSpec, Workspace, load_dataset
    from auditkit.data.guess import guess_roles

    with Workspace() as workspace:
        dataset = load_dataset(
            workspace, "current", SourceSpec.parse(path), ColumnRoles(), require_decisions=False
        )
        return guess_roles(workspace, dataset)


def new_project_text(choices: NewProject, project_file: Path) -> str:
    """The project file for ``choices`` (paths relative to its folder), validated before it is shown."""
    import yaml
    from pydantic import ValidationError

    from auditkit.project import ProjectFile

    base = project_file.resolve().parent
    data: dict[str, Any] = {}
    if choices.model:
        data["model"] = {"path": _relative_to(Path(choices.model), base)}
    data["data"] = {"current": _relative_to(Path(choices.data), base)}
    if choices.reference:
        data["data"]["reference"] = _relative_to(Path(choices.reference), base)
    columns: dict[str, Any] = {
        role: value
        for role, value in (
            ("label", choices.label),
            ("prediction", choices.prediction),
            ("score", choices.score),
            ("threshold", choices.threshold),
        )
        if value not in (None, "")
    }
    columns["sensitive"] = list(choices.sensitive)
    columns["positive_label"] = _scalar(choices.positive_label)
    data["columns"] = columns
    data["policies"] = list(choices.policies)
    try:
        ProjectFile.model_validate(data)
    except ValidationError as error:
        item = error.errors()[0]
        raise ConfigError(f"{'.'.join(map(str, item['loc']))}: {item['msg']}") from None
    header = "# auditkit project file (written by the auditkit terminal UI)\n"
    return (
        header
        + _review_comment(choices.model)
        + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    )


def _review_comment(model: str | None) -> str:
    """A TODO comment naming the model's types that a reviewer must check; they are not trusted here."""
    from auditkit.data.artifacts import review_todo, types_to_review

    untrusted = types_to_review(model) if model else ()
    return f"# TODO {review_todo(untrusted)}\n" if untrusted else ""


def write_new_project(project_file: Path, text: str) -> None:
    """Write a new project file atomically; an existing file is never overwritten."""
    from auditkit.fsutil import write_text_atomic

    if project_file.exists():
        raise UsageError(
            f"{project_file} already exists: open it with `auditkit tui {project_file}`"
        )
    write_text_atomic(project_file, text)


def _scalar(text: str) -> int | float | str | bool:
    import yaml

    value = yaml.safe_load(text) if text.strip() else 1
    return value if isinstance(value, int | float | str | bool) else text
