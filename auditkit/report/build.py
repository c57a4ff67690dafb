"""Build a finished report folder from a stored run: render, sign, then move the files into place.

The command line (``auditkit report``, ``auditkit demo``) and the terminal UI both call
:func:`build_report`; nothing here prints, so each front end shows progress its own way.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from auditkit.report.keys import SignerConfig
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
    trail_anchor: Mapping[str, Any] | None = None,
) -> tuple[list[dict[str, str]], str | None]:
    """Render (and sign) in a staging folder beside ``out``, then move the finished files into ``out``.

    Returns the files written with their sha256, and the signer's name. A failure at any step (a wrong
    passphrase, a template error) leaves ``out`` as it was. ``progress`` gets ``(step, fraction)``.
    ``trail_anchor`` (:meth:`auditkit.trail.TrailStore.anchor`) is signed into the in-toto statement.
    """
    from auditkit.report import render_report
    from auditkit.report.dsse import sha256_hex
    from auditkit.report.worker import ReportWorker

    report_progress = progress or (lambda _step, _fraction: None)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        with ReportWorker(signer=signer) as worker:
            rendered = render_report(
                document,
                staging,
                signoffs=signoffs,
                template_dirs=template_dirs,
                # Signing takes a tenth of the time: rendering reports up to 90 %.
                progress=lambda step, fraction: report_progress(step, fraction * 0.9),
                worker=worker,
            )
            signed_by = None
            if signer is not None:
                report_progress("signing", 0.9)
                signed_by = _sign(staging, rendered, document, signer, trail_anchor, worker)
        names = sorted(path.name for path in staging.iterdir())
        files = [
            {"name": name, "sha256": sha256_hex((staging / name).read_bytes())} for name in names
        ]
        out.mkdir(parents=True, exist_ok=True)
        for name in names:
            (staging / name).replace(out / name)
        report_progress("done", 1.0)
        return files, signed_by
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _sign(
    staging: Path,
    rendered: RenderedReport,
    document: Mapping[str, Any],
    signer: SignerConfig,
    trail_anchor: Mapping[str, Any] | None,
    worker: ReportWorker,
) -> str:
    from auditkit.report.keys import load_signer
    from auditkit.report.signing import sign_report

    result = document.get("result") or {}
    predicate = {
        "run_id": rendered.run_id,
        "verdict": result.get("status"),
        "policies": {
            policy.get("id"): policy.get("sha256") for policy in result.get("policies", [])
        },
    }
    if trail_anchor is not None:
        predicate["audit_trail"] = dict(trail_anchor)
    covered = [path for path in rendered.files if path.name != rendered.pdf.name]
    sign_report(staging, rendered.pdf, signer, covered, predicate, worker=worker)
    return load_signer(signer).name
