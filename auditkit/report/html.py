"""HTML from the report context, with Jinja2 templates (autoescaped, strict about undefined names).

The templates live in ``report_templates/``; a folder given in ``template_dirs`` is searched first,
so a user overrides one section by writing a template of the same name (``fairness.html.j2``) there.
"""

from __future__ import annotations

import contextlib
import math
import pickle
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditkit.errors import AuditkitError, SourcePosition

if TYPE_CHECKING:
    import jinja2

ROOT_TEMPLATE = "report.html.j2"
MISSING = "—"


class TemplateError(AuditkitError):
    """A report template is missing, malformed, or names a value the report does not have."""


def environment(template_dirs: Sequence[str | Path] = ()) -> jinja2.Environment:
    """The Jinja2 environment: user folders first, then the shipped templates."""
    import jinja2

    from auditkit.resources import report_templates_dir

    folders = [str(Path(folder)) for folder in template_dirs] + [str(report_templates_dir())]
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folders),
        bytecode_cache=compiled_templates(),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        num=number, pct=percent, ci=interval, pvalue=p_value, digest=digest, measure=measure
    )
    env.filters["embed"] = embedder([Path(folder) for folder in folders])
    return env


def compiled_templates() -> jinja2.BytecodeCache | None:
    """Where compiled templates are kept between reports: compiling the report's templates takes four
    times as long as rendering them. Jinja2 keys each by its file's path and the sha1 of its source,
    so an edited template (a user's, or a new auditkit's) is compiled afresh. Without a cache folder
    the templates are compiled every time."""
    import jinja2

    from auditkit import __version__
    from auditkit.resources import cache_dir

    # One folder per auditkit version: Jinja2 keys a compiled template by its path and source only,
    # not by the environment's options (autoescaping, whitespace), which a new version may change.
    folder = cache_dir(f"templates/{__version__}")
    if folder is None:
        return None

    class QuietCache(jinja2.FileSystemBytecodeCache):
        """A cache that cannot be read or written (a full disk, a damaged file) only costs the
        compilation."""

        def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            # Jinja2 catches a damaged file's code, not its damaged checksum (a pickle).
            try:
                super().load_bytecode(bucket)
            except (OSError, EOFError, ValueError, TypeError, pickle.UnpicklingError):
                bucket.reset()

        def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            with contextlib.suppress(OSError):
                super().dump_bytecode(bucket)

    return QuietCache(str(folder))


def embedder(folders: Sequence[Path]) -> Any:
    """The ``embed`` filter: ``{{ "logo.png" | embed }}`` is that file of the template folders as a
    ``data:`` URL, so that a template can show an image (or use a font) and the report stays
    self-contained."""

    def embed(name: str) -> str:
        import base64
        import mimetypes

        for folder in folders:
            candidate = (folder / name).resolve()
            if candidate.is_relative_to(folder.resolve()) and candidate.is_file():
                kind, _encoding = mimetypes.guess_type(candidate.name)
                if kind is None:
                    raise TemplateError(f"embed: {name}: not a file type a report can show")
                content = base64.b64encode(candidate.read_bytes()).decode("ascii")
                return f"data:{kind};base64,{content}"
        searched = ", ".join(str(folder) for folder in folders)
        raise TemplateError(f"embed: no file {name} in the template folders ({searched})")

    return embed


def render_html(context: Mapping[str, Any], template_dirs: Sequence[str | Path] = ()) -> str:
    """Render the report; any template problem becomes a :class:`TemplateError` naming file and line."""
    import jinja2

    env = environment(template_dirs)
    try:
        return env.get_template(ROOT_TEMPLATE).render(**context)
    except jinja2.TemplateSyntaxError as error:
        raise TemplateError(
            f"report template syntax error: {error.message}",
            position=SourcePosition(error.filename or error.name or "?", error.lineno),
        ) from None
    except jinja2.TemplateNotFound as error:
        raise TemplateError(f"report template not found: {error.name}") from None
    except TemplateError as error:  # from a filter (embed): where in the template it was asked for
        raise TemplateError(str(error), position=_template_position(error)) from None
    except jinja2.UndefinedError as error:
        raise TemplateError(
            f"report template uses an undefined value: {error.message}",
            position=_template_position(error),
        ) from None
    except Exception as error:
        # A user's template that fails as it renders ({{ 1 / 0 }}) is that template's error; one of
        # the shipped templates failing is a bug, reported as one.
        position = _template_position(error)
        if position is None or not _in_folders(position.path, template_dirs):
            raise
        raise TemplateError(
            f"report template failed: {type(error).__name__}: {error}", position=position
        ) from None


def _in_folders(path: str, folders: Sequence[str | Path]) -> bool:
    resolved = Path(path).resolve()
    return any(resolved.is_relative_to(Path(folder).resolve()) for folder in folders)


def _template_position(error: BaseException) -> SourcePosition | None:
    """The innermost template frame of the traceback (Jinja2 maps its lines to the template's)."""
    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if frame.filename.endswith((".j2", ".html", ".css"))
    ]
    if not frames:
        return None
    return SourcePosition(frames[-1].filename, frames[-1].lineno)


def number(value: Any, digits: int = 3) -> str:
    """``0.504``; counts with thousands separators; ``—`` when there is no value."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if not isinstance(value, float):
        return str(value)
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if value != 0 and abs(value) < 10 ** (-digits):
        return f"{value:.1e}"
    return f"{value:,.{digits}f}"


def measure(value: Any) -> str:
    """A rule's observed value or threshold, to four significant digits (``0.5045``, ``89``)."""
    if value is None:
        return MISSING
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return f"{value:.4g}"
    return number(value)


def percent(value: Any, digits: int = 1) -> str:
    if value is None:
        return MISSING
    return f"{float(value) * 100:.{digits}f} %"


def interval(bounds: Any, digits: int = 3) -> str:
    """``[0.649, 0.668]``; empty when there is no interval."""
    if not bounds:
        return ""
    low, high = bounds
    return f"[{number(float(low), digits)}, {number(float(high), digits)}]"


def p_value(value: Any) -> str:
    if value is None:
        return MISSING
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def digest(hex_digest: Any) -> Any:
    """A sha256 as two lines of 32 characters (the only place it may break), escaped."""
    from markupsafe import Markup, escape

    text = str(hex_digest or "")
    half = len(text) // 2
    return Markup('<span class="digest">{}<wbr>{}</span>').format(
        escape(text[:half]), escape(text[half:])
    )
