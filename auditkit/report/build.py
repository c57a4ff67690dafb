"""Build a finished report folder from a stored run: render, sign, then move the files into place.

The command line (``auditkit report``, ``auditkit demo``) and the terminal UI both call
:func:`build_report`; nothing here prints, so each front end shows progress its own way.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from auditkit.report.keys import SignerConfig, SignerMaterial
    from auditkit.report.render import Progress, RenderedReport
    from auditkit.report.worker import ReportWorker


def build_report(
    document: Mapping[str, Any],
    out: Path,
    *,
    signoffs: Sequence[Mapping[str, Any]],
    signer: SignerConfig | None,
    template_dirs: Sequence[Path] = (),
    progress: Progress | None = None,
    trail_anchor: Callable[[], Mapping[str, Any]] | None = None,
    record: Callable[[list[dict[str, str]], str | None], object] | None = None,
    worker: ReportWorker | None = None,
) -> tuple[list[dict[str, str]], str | None]:
    """Render (and sign) in a staging folder beside ``out``, then move the finished files into ``out``.

    Returns the files written with their sha256, and the signer's name. A failure at any step (a wrong
    passphrase, a template error) leaves ``out`` as it was. ``progress`` gets ``(step, fraction)``.
    ``trail_anchor`` (:meth:`auditkit.trail.TrailStore.anchor`) verifies the audit trail and gives its
    head, which is signed into the in-toto statement; it is called while the PDF is being written, and
    a broken trail fails the report.
    ``record`` (files, signer name) records the report in the audit trail once its files are final,
    before they are moved into ``out``: a store that cannot be written to leaves no report behind.
    ``worker`` (started early, so that it imports WeasyPrint meanwhile) writes the PDF; without one,
    one is started here.
    """
    from auditkit.report import render_report
    from auditkit.report.dsse import sha256_hex
    from auditkit.report.keys import load_signer
    from auditkit.report.worker import ReportWorker

    report_progress = progress or (lambda _step, _fraction: None)
    # A wrong passphrase or a key that is not the certificate's is said before any rendering.
    material = load_signer(signer) if signer is not None else None
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    anchor: dict[str, Any] = {}

    def meanwhile() -> None:
        if trail_anchor is not None:
            anchor.update(trail_anchor())
        if signer is not None:
            _import_pyhanko()

    try:
        with contextlib.ExitStack() as stack:
            pdf_writer = worker or stack.enter_context(ReportWorker())
            rendered = render_report(
                document,
                staging,
                signoffs=signoffs,
                template_dirs=template_dirs,
                # Signing takes a tenth of the time: rendering reports up to 90 %.
                progress=lambda step, fraction: report_progress(step, fraction * 0.9),
                worker=pdf_writer,
                meanwhile=meanwhile,
            )
        signed_by = None
        if signer is not None and material is not None:
            report_progress("signing", 0.9)
            signed_by = _sign(staging, rendered, document, signer, material, anchor or None)
        names = sorted(path.name for path in staging.iterdir())
        files = [
            {"name": name, "sha256": sha256_hex((staging / name).read_bytes())} for name in names
        ]
        if record is not None:
            record(files, signed_by)
        out.mkdir(parents=True, exist_ok=True)
        for name in names:
            (staging / name).replace(out / name)
        report_progress("done", 1.0)
        return files, signed_by
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _import_pyhanko() -> None:
    """Most of the cost of signing, paid while the PDF is being written."""
    import pyhanko.sign  # noqa: F401


def _sign(
    staging: Path,
    rendered: RenderedReport,
    document: Mapping[str, Any],
    signer: SignerConfig,
    material: SignerMaterial,
    trail_anchor: Mapping[str, Any] | None,
) -> str:
    from auditkit.report.signing import sign_report

    result = document.get("result") or {}
    predicate = {
        "run_id": rendered.run_id,
        "verdict": result.get("status"),
        "policies": {
            policy.get("id"): policy.get("sha256") for policy in result.get("policies", [])
        },
    }
    model = (document.get("project") or {}).get("model") or {}
    if model.get("name"):
        # The signature binds the model's identity as the project names it.
        predicate["model"] = {"name": model["name"], "version": model.get("version")}
    if trail_anchor is not None:
        predicate["audit_trail"] = dict(trail_anchor)
    covered = [path for path in rendered.files if path.name != rendered.pdf.name]
    sign_report(staging, rendered.pdf, signer, covered, predicate, material=material)
    return material.name
