"""Model artifacts, loaded safely, with what the audit records about them.

* ``.skops``: loaded only when every type in the file is trusted: skops' default set, plus classes of
  scikit-learn itself (skops restores their state without running code from the file). Any other type
  (a custom class, another library) is refused by name unless trust is given explicitly.
* ``.onnx``: run by onnxruntime; an ONNX graph cannot execute arbitrary Python.
* ``.pkl`` / ``.pickle`` / ``.joblib``: unpickling runs code chosen by whoever wrote the file, so these load
  only with ``--trust-model`` or when the file's sha256 is pinned in the project file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy
import pyarrow

from auditkit.data.fingerprint import sha256_file
from auditkit.errors import InputError, UntrustedModelError

ModelFormat = Literal["skops", "onnx", "pickle", "joblib"]
_FORMATS: dict[str, ModelFormat] = {
    ".skops": "skops",
    ".onnx": "onnx",
    ".pkl": "pickle",
    ".pickle": "pickle",
    ".joblib": "joblib",
}
TRUSTED_MODULE_PREFIXES = ("sklearn.",)


@dataclass(frozen=True)
class ModelInfo:
    """What the audit trail and the report say about a model."""

    path: str
    format: ModelFormat
    sha256: str
    model_type: str
    feature_names: tuple[str, ...] | None
    classes: tuple[Any, ...] | None
    trusted: bool
    """True when loading needed explicit trust (a pickle, or untrusted skops types)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.format,
            "sha256": self.sha256,
            "type": self.model_type,
            "features": list(self.feature_names) if self.feature_names else None,
            "classes": [str(c) for c in self.classes] if self.classes is not None else None,
            "explicitly_trusted": self.trusted,
        }


class LoadedModel:
    """A model that scores Arrow batches: a scikit-learn estimator or an onnxruntime session."""

    def __init__(self, info: ModelInfo, model: Any) -> None:
        self.info = info
        self._model = model

    def predict_scores(
        self, batch: pyarrow.RecordBatch | pyarrow.Table, positive_class: Any = None
    ) -> numpy.ndarray:
        """For classifiers, the probability of ``positive_class`` (default: the second of ``classes``);
        for regressors, the prediction."""
        if self.info.format == "onnx":
            return _onnx_scores(self._model, batch)
        frame = _frame(batch, self.info.feature_names)
        if hasattr(self._model, "predict_proba"):
            return numpy.asarray(self._model.predict_proba(frame))[
                :, self.class_index(positive_class)
            ]
        return numpy.asarray(self._model.predict(frame), dtype=numpy.float64)

    def class_index(self, positive_class: Any) -> int:
        """Column of ``predict_proba`` for ``positive_class``, compared as text ("0" matches 0)."""
        classes = self.info.classes
        if positive_class is None or classes is None:
            return 1
        names = [str(value) for value in classes]
        if str(positive_class) not in names:
            raise InputError(
                f"{self.info.path}: the model's classes are {', '.join(names)}; the positive label "
                f"{positive_class!r} is not one of them"
            )
        return names.index(str(positive_class))

    def predict_labels(self, batch: pyarrow.RecordBatch | pyarrow.Table) -> numpy.ndarray:
        if self.info.format == "onnx":
            return numpy.asarray(self._model.run(None, _onnx_feed(self._model, batch))[0]).ravel()
        return numpy.asarray(self._model.predict(_frame(batch, self.info.feature_names)))


def model_format(path: Path) -> ModelFormat:
    suffix = path.suffix.lower()
    if suffix not in _FORMATS:
        raise InputError(
            f"{path}: unknown model format {suffix or '(no suffix)'}; use .skops, .onnx, "
            ".pkl or .joblib"
        )
    return _FORMATS[suffix]


def load_model(
    path: str | Path, *, trust: bool = False, pinned_sha256: str | None = None
) -> LoadedModel:
    """Load a model artifact, refusing anything that could run code unless trust is explicit."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: model file not found")
    kind = model_format(path)
    digest = sha256_file(path)
    if kind == "skops":
        model, needed_trust = _load_skops(path, trust)
        return LoadedModel(_describe(path, kind, digest, model, needed_trust), model)
    if kind == "onnx":
        session = _load_onnx(path)
        names = tuple(item.name for item in session.get_inputs())
        info = ModelInfo(str(path), kind, digest, "onnx", names, None, False)
        return LoadedModel(info, session)
    _check_pickle_trust(path, digest, trust, pinned_sha256)
    model = _load_pickle(path, kind)
    return LoadedModel(_describe(path, kind, digest, model, True), model)


def _load_skops(path: Path, trust: bool) -> tuple[Any, bool]:
    import skops.io

    try:
        unknown = skops.io.get_untrusted_types(file=path)
    except Exception as error:  # skops raises several types for a corrupt archive
        raise InputError(f"{path}: not a readable .skops file: {error}") from None
    untrusted = [name for name in unknown if not name.startswith(TRUSTED_MODULE_PREFIXES)]
    if untrusted and not trust:
        raise UntrustedModelError(
            f"{path}: refusing to load types that are not known to be safe: {', '.join(untrusted)}; review "
            "them (skops.io.get_untrusted_types) and pass --trust-model if you trust this file"
        )
    try:
        return skops.io.load(path, trusted=list(unknown)), bool(untrusted)
    except Exception as error:
        raise InputError(f"{path}: cannot load the model: {error}") from None


def _load_onnx(path: Path) -> Any:
    import onnxruntime

    try:
        return onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises its own exception classes
        raise InputError(
            f"{path}: not a readable ONNX model: {str(error).splitlines()[0]}"
        ) from None


def _check_pickle_trust(path: Path, digest: str, trust: bool, pinned: str | None) -> None:
    if pinned is not None and pinned.lower() != digest:
        raise UntrustedModelError(
            f"{path}: sha256 {digest} does not match the pinned sha256 {pinned.lower()}; the file changed"
        )
    if trust or pinned is not None:
        return
    raise UntrustedModelError(
        f"{path}: loading a pickle runs any code its author put in it, so auditkit does not load it "
        f"without trust; pass --trust-model, or pin it in auditkit.yaml as model: {{sha256: {digest}}}"
    )


def _load_pickle(path: Path, kind: ModelFormat) -> Any:
    try:
        if kind == "joblib":
            import joblib

            return joblib.load(path)
        import pickle

        with path.open("rb") as handle:
            return pickle.load(handle)
    except Exception as error:
        raise InputError(f"{path}: cannot unpickle the model: {error}") from None


def _describe(path: Path, kind: ModelFormat, digest: str, model: Any, trusted: bool) -> ModelInfo:
    features = getattr(model, "feature_names_in_", None)
    classes = getattr(model, "classes_", None)
    return ModelInfo(
        path=str(path),
        format=kind,
        sha256=digest,
        model_type=describe_type(model),
        feature_names=tuple(str(name) for name in features) if features is not None else None,
        classes=tuple(classes.tolist()) if classes is not None else None,
        trusted=trusted,
    )


def describe_type(model: Any) -> str:
    """``sklearn.pipeline.Pipeline(HistGradientBoostingClassifier)`` and the like."""
    name = f"{type(model).__module__.split('.')[0]}.{type(model).__qualname__}"
    steps = getattr(model, "steps", None)
    if steps:
        return f"{name}({type(steps[-1][1]).__name__})"
    return name


def _frame(batch: pyarrow.RecordBatch | pyarrow.Table, features: tuple[str, ...] | None) -> Any:
    if features is not None:
        batch = batch.select(list(features))
    # pandas only for one batch at a time: scikit-learn pipelines select columns by name.
    return batch.to_pandas()


def _onnx_feed(
    session: Any, batch: pyarrow.RecordBatch | pyarrow.Table
) -> dict[str, numpy.ndarray]:
    feed = {}
    for item in session.get_inputs():
        column = batch.column(item.name).to_numpy(zero_copy_only=False)
        if "string" in item.type:
            values = numpy.asarray(column, dtype=object).astype(str)
        elif "double" in item.type:
            values = numpy.asarray(column, dtype=numpy.float64)
        elif "int64" in item.type:
            values = numpy.asarray(column, dtype=numpy.int64)
        else:
            values = numpy.asarray(column, dtype=numpy.float32)
        shape = item.shape
        feed[item.name] = values.reshape(-1, 1) if len(shape) == 2 and shape[1] == 1 else values
    return feed


def _onnx_scores(session: Any, batch: pyarrow.RecordBatch | pyarrow.Table) -> numpy.ndarray:
    outputs = session.run(None, _onnx_feed(session, batch))
    if len(outputs) < 2:
        return numpy.asarray(outputs[0], dtype=numpy.float64).ravel()
    probabilities = outputs[1]
    if isinstance(probabilities, list):  # a ZipMap output: one {class: probability} per row
        keys = sorted(probabilities[0])
        return numpy.asarray([row[keys[-1]] for row in probabilities], dtype=numpy.float64)
    return numpy.asarray(probabilities, dtype=numpy.float64)[:, 1]
