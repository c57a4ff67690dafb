"""Model artifacts, loaded safely, with what the audit records about them.

* ``.skops``: loaded only when every type in the file is in skops' default trusted set or in the list of
  types a reviewer has checked (the project file's ``model: trusted_types``). Any other type (a custom
  class, another library, or scikit-learn internals that skops deliberately leaves out, such as tree
  node storage) is refused by name unless trust is given explicitly.
* ``.onnx``: run by onnxruntime on the CPU; an ONNX graph cannot execute arbitrary Python.
* ``.pkl`` / ``.pickle`` / ``.joblib``: unpickling runs code chosen by whoever wrote the file, so these load
  only with ``--trust-model`` or when the file's sha256 is pinned in the project file.

A pinned sha256 is also an integrity check: a file of any format whose digest differs is refused.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, TypeAlias

import numpy
import pyarrow

from auditkit.data.fingerprint import sha256_file
from auditkit.errors import InputError, UntrustedModelError

ModelFormat = Literal["skops", "onnx", "pickle", "joblib"]
Batch: TypeAlias = "pyarrow.RecordBatch | pyarrow.Table"
_FORMATS: dict[str, ModelFormat] = {
    ".skops": "skops",
    ".onnx": "onnx",
    ".pkl": "pickle",
    ".pickle": "pickle",
    ".joblib": "joblib",
}
_ONNX_CLASS_LABELS = ("classlabels_int64s", "classlabels_ints", "classlabels_strings")
ModelTrust: TypeAlias = "bool | tuple[str, ...]"
"""``True`` trusts everything (``--trust-model``); a tuple names the skops types a reviewer has checked,
which are trusted and nothing else; ``False`` or ``()`` trusts only skops' default set."""


@dataclass(frozen=True)
class ModelInfo:
    """What the audit trail and the report say about a model."""

    path: str
    format: ModelFormat
    sha256: str
    model_type: str
    """E.g. ``sklearn.pipeline.Pipeline(LogisticRegression)``, or the ONNX graph and its producer."""
    feature_names: tuple[str, ...] | None
    """The input columns the model expects, in order; ``None`` when the artifact does not say."""
    classes: tuple[Any, ...] | None
    """Class labels in the order of the probability columns; ``None`` for regressors or when unknown."""
    trusted: bool
    """True when loading needed explicit trust (a pickle, or types skops does not trust by default)."""
    trusted_types: tuple[str, ...] = ()
    """The types in a ``.skops`` file that skops does not trust by default and that were loaded on
    explicit trust."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.format,
            "sha256": self.sha256,
            "type": self.model_type,
            "features": list(self.feature_names) if self.feature_names else None,
            "classes": [str(c) for c in self.classes] if self.classes is not None else None,
            "explicitly_trusted": self.trusted,
            "trusted_types": list(self.trusted_types),
        }


class LoadedModel:
    """A model that scores Arrow batches: a scikit-learn estimator or an onnxruntime session.

    A batch must hold the model's feature columns (others are ignored). When the artifact does not name
    its features, every column of the batch is an input, in the batch's order.
    """

    def __init__(self, info: ModelInfo, model: Any) -> None:
        self.info = info
        self._model = model

    @property
    def native(self) -> Any:
        """The scikit-learn estimator or the ``onnxruntime.InferenceSession``."""
        return self._model

    def predict_scores(self, batch: Batch, positive_class: Any = None) -> numpy.ndarray:
        """For a classifier, the probability of ``positive_class`` (default: the class at index 1);
        for a regressor, the prediction. Always float64, one value per row."""
        self._check_columns(batch)
        if self.info.format == "onnx":
            return self._onnx_scores(batch, positive_class)
        inputs = _estimator_inputs(batch, self.info.feature_names)
        if hasattr(self._model, "predict_proba"):
            probabilities = numpy.asarray(self._model.predict_proba(inputs), dtype=numpy.float64)
            return probabilities[:, self.class_index(positive_class)]
        return numpy.asarray(self._model.predict(inputs), dtype=numpy.float64).ravel()

    def predict_labels(self, batch: Batch) -> numpy.ndarray:
        """The model's own predicted label (or value) for each row."""
        self._check_columns(batch)
        if self.info.format == "onnx":
            label_output = self._model.get_outputs()[0].name
            feed = _onnx_feed(self._model, batch)
            return numpy.asarray(self._model.run([label_output], feed)[0]).ravel()
        inputs = _estimator_inputs(batch, self.info.feature_names)
        return numpy.asarray(self._model.predict(inputs)).ravel()

    def _check_columns(self, batch: Batch) -> None:
        missing = [name for name in self.info.feature_names or () if name not in batch.schema.names]
        if missing:
            raise InputError(
                f"{self.info.path}: the batch lacks the model's input columns {', '.join(missing)}"
            )

    def class_index(self, positive_class: Any) -> int:
        """Probability column of ``positive_class``, compared as text (``"0"`` matches ``0``).

        Without known class labels, an integer-like label ``k`` is taken to be column ``k`` (the order
        scikit-learn and skl2onnx use for labels ``0..n-1``); no label means column 1.
        """
        if positive_class is None:
            return 1
        classes = self.info.classes
        if classes is None:
            return _index_without_labels(self.info.path, positive_class)
        names = [str(value) for value in classes]
        if str(positive_class) not in names:
            raise InputError(
                f"{self.info.path}: the model's classes are {', '.join(names)}; the positive label "
                f"{positive_class!r} is not one of them"
            )
        return names.index(str(positive_class))

    def _onnx_scores(self, batch: Batch, positive_class: Any) -> numpy.ndarray:
        session = self._model
        probability_output = _onnx_probability_output(session)
        feed = _onnx_feed(session, batch)
        if probability_output is None:  # a regressor (or a graph with a single score output)
            output = session.get_outputs()[0].name
            return numpy.asarray(session.run([output], feed)[0], dtype=numpy.float64).ravel()
        probabilities = session.run([probability_output], feed)[0]
        if isinstance(probabilities, list):  # a ZipMap: one {class: probability} dict per row
            return _zipmap_column(probabilities, self._zipmap_key(probabilities, positive_class))
        return numpy.asarray(probabilities, dtype=numpy.float64)[
            :, self.class_index(positive_class)
        ]

    def _zipmap_key(self, rows: list[dict[Any, float]], positive_class: Any) -> Any:
        keys = sorted(rows[0]) if rows else []
        if positive_class is None:
            return keys[1] if len(keys) > 1 else (keys[0] if keys else None)
        for key in keys:
            if str(key) == str(positive_class):
                return key
        raise InputError(
            f"{self.info.path}: the model's classes are {', '.join(map(str, keys))}; the positive "
            f"label {positive_class!r} is not one of them"
        )


def model_format(path: Path) -> ModelFormat:
    """The artifact format, from the file's suffix."""
    suffix = path.suffix.lower()
    if suffix not in _FORMATS:
        raise InputError(
            f"{path}: unknown model format {suffix or '(no suffix)'}; use .skops, .onnx, "
            ".pkl, .pickle or .joblib"
        )
    return _FORMATS[suffix]


def load_model(
    path: str | Path, *, trust: ModelTrust = False, pinned_sha256: str | None = None
) -> LoadedModel:
    """Load a model artifact, refusing anything that could run code unless trust is explicit.

    ``trust=True`` loads pickles and any skops type outside skops' trusted set; a tuple of type names
    loads exactly those skops types besides the default set (pickles still need ``True`` or a pin);
    ``pinned_sha256`` loads a pickle whose digest matches it, and refuses a file of any format whose
    digest does not.
    """
    path = Path(path)
    kind, digest = check_model_file(path, trust=trust, pinned_sha256=pinned_sha256)
    if kind == "skops":
        model, trusted_types = _load_skops(path, trust)
        info = _describe_estimator(path, kind, digest, model, bool(trusted_types))
        return LoadedModel(replace(info, trusted_types=trusted_types), model)
    if kind == "onnx":
        session = _load_onnx(path)
        return LoadedModel(_describe_onnx(path, digest, session), session)
    model = _load_pickle(path, kind)
    return LoadedModel(_describe_estimator(path, kind, digest, model, True), model)


def check_model_file(
    path: Path, *, trust: ModelTrust = False, pinned_sha256: str | None = None
) -> tuple[ModelFormat, str]:
    """The refusals that need no model library, in a moment: a missing file, an unknown format, a
    digest other than the pinned one, a pickle without trust. Returns the format and the sha256."""
    if not path.is_file():
        raise InputError(f"{path}: model file not found")
    kind = model_format(path)
    digest = sha256_file(path)
    _check_pin(path, digest, pinned_sha256)
    if kind in ("pickle", "joblib"):
        _check_pickle_trust(path, digest, trust is True, pinned_sha256)
    return kind, digest


def _check_pin(path: Path, digest: str, pinned: str | None) -> None:
    if pinned is not None and pinned.lower() != digest:
        raise UntrustedModelError(
            f"{path}: its sha256 is {digest} but the project pins {pinned.lower()}; the file is not "
            "the one that was reviewed"
        )


def _load_skops(path: Path, trust: ModelTrust) -> tuple[Any, tuple[str, ...]]:
    """The estimator and the types outside skops' default set that it needed (and was trusted with)."""
    import skops.io

    untrusted = untrusted_skops_types(path)
    reviewed = () if isinstance(trust, bool) else trust
    refused = [] if trust is True else [name for name in untrusted if name not in reviewed]
    if refused:
        raise UntrustedModelError(_refusal(path, refused, bool(reviewed)))
    # Exactly the reviewed types go to skops, so that skops itself refuses anything else.
    granted = list(untrusted) if trust is True else list(reviewed)
    try:
        return skops.io.load(path, trusted=granted or None), untrusted
    except Exception as error:  # skops re-raises whatever reconstructing the objects raised
        raise InputError(f"{path}: cannot load the model ({_first_line(error)})") from None


def untrusted_skops_types(path: Path) -> tuple[str, ...]:
    """The types in a ``.skops`` file that skops does not trust by default, as skops names them."""
    import skops.io

    try:
        return tuple(skops.io.get_untrusted_types(file=path))
    except Exception as error:  # a corrupt archive raises zipfile, json or key errors
        raise InputError(f"{path}: not a readable .skops file ({_first_line(error)})") from None


def types_to_review(path: str | Path) -> tuple[str, ...]:
    """For a project file being written: the untrusted types of an existing, readable ``.skops`` file,
    else ``()`` (loading the model reports any other problem)."""
    path = Path(path)
    if path.suffix.lower() != ".skops" or not path.is_file():
        return ()
    try:
        return untrusted_skops_types(path)
    except InputError:
        return ()


def review_todo(types: tuple[str, ...]) -> str:
    """What a new project file says about types that a reviewer must check before the model loads."""
    return (
        f"model.trusted_types: the model holds types that skops does not trust by default "
        f"({', '.join(types)}); review them and list those you trust"
    )


def _refusal(path: Path, refused: list[str], some_listed: bool) -> str:
    listed = " and model: trusted_types does not list" if some_listed else ""
    return (
        f"{path}: refusing to load types that skops does not trust by default{listed}: "
        f"{', '.join(refused)}; review them (skops.io.get_untrusted_types(file=...) lists them) and "
        "list those you trust under model: trusted_types in the project file, or pass --trust-model "
        "only if you trust where the file came from"
    )


def _load_onnx(path: Path) -> Any:
    import onnxruntime

    try:
        return onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises its own exception classes
        raise InputError(f"{path}: not a readable ONNX model ({_first_line(error)})") from None


def _check_pickle_trust(path: Path, digest: str, trust: bool, pinned: str | None) -> None:
    if trust or pinned is not None:  # a pin that did not match was refused already
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
    except Exception as error:  # unpickling can raise anything the file's code raises
        raise InputError(f"{path}: cannot unpickle the model ({_first_line(error)})") from None


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _describe_estimator(
    path: Path, kind: ModelFormat, digest: str, model: Any, trusted: bool
) -> ModelInfo:
    features = getattr(model, "feature_names_in_", None)
    classes = getattr(model, "classes_", None) if hasattr(model, "predict_proba") else None
    return ModelInfo(
        path=str(path),
        format=kind,
        sha256=digest,
        model_type=describe_type(model),
        feature_names=tuple(str(name) for name in features) if features is not None else None,
        classes=tuple(numpy.asarray(classes).tolist()) if classes is not None else None,
        trusted=trusted,
    )


def describe_type(model: Any) -> str:
    """``sklearn.pipeline.Pipeline(LogisticRegression)`` and the like (public module paths)."""
    name = f"{_public_module(type(model).__module__)}.{type(model).__qualname__}"
    steps = getattr(model, "steps", None)
    if steps:
        return f"{name}({type(steps[-1][1]).__name__})"
    return name


def _public_module(module: str) -> str:
    """``sklearn.linear_model._logistic`` -> ``sklearn.linear_model``: where users import it from."""
    parts = module.split(".")
    public = list(itertools.takewhile(lambda part: not part.startswith("_"), parts))
    return ".".join(public or parts[:1])


def _estimator_inputs(batch: Batch, features: tuple[str, ...] | None) -> Any:
    """A pandas frame of the named features (pipelines select columns by name), else a 2-D array."""
    if features is None:
        return numpy.column_stack(
            [column.to_numpy(zero_copy_only=False) for column in batch.columns]
        )
    # One batch at a time in pandas, never the whole dataset.
    return batch.select(list(features)).to_pandas()


def _describe_onnx(path: Path, digest: str, session: Any) -> ModelInfo:
    meta = session.get_modelmeta()
    producer = meta.producer_name or "unknown producer"
    return ModelInfo(
        path=str(path),
        format="onnx",
        sha256=digest,
        model_type=f"onnx graph {meta.graph_name!r} ({producer})",
        feature_names=_onnx_feature_names(session),
        classes=_onnx_classes(path),
        trusted=False,
    )


def _onnx_feature_names(session: Any) -> tuple[str, ...] | None:
    """One named input per column (skl2onnx with a column per input), or ``None`` for one wide
    tensor input whose columns the graph does not name."""
    inputs = session.get_inputs()
    if len(inputs) == 1 and _tensor_width(inputs[0]) != 1:
        return None
    return tuple(item.name for item in inputs)


def _tensor_width(item: Any) -> int | str | None:
    shape = item.shape
    return shape[1] if len(shape) == 2 else None


def _onnx_classes(path: Path) -> tuple[Any, ...] | None:
    """Class labels from the graph's last classifier node, when the ``onnx`` package can read it."""
    try:
        import onnx
    except ImportError:
        return None
    graph = onnx.load(str(path), load_external_data=False).graph
    for node in reversed(graph.node):
        for attribute in node.attribute:
            if attribute.name in _ONNX_CLASS_LABELS:
                values = onnx.helper.get_attribute_value(attribute)
                return tuple(v.decode() if isinstance(v, bytes) else int(v) for v in values)
    return None


def _index_without_labels(path: str, positive_class: Any) -> int:
    text = str(positive_class).strip()
    if text.lstrip("-").isdigit() and int(text) >= 0:
        return int(text)
    raise InputError(
        f"{path}: the model does not record its class labels, so the probability of "
        f"{positive_class!r} cannot be located"
    )


def _onnx_probability_output(session: Any) -> str | None:
    """The output holding class probabilities: a ZipMap sequence or a 2-D tensor after the label."""
    outputs = session.get_outputs()
    for item in outputs:
        if item.type.startswith("seq(map"):
            return str(item.name)
    if len(outputs) >= 2 and len(outputs[1].shape) == 2:
        return str(outputs[1].name)
    return None


def _onnx_feed(session: Any, batch: Batch) -> dict[str, numpy.ndarray]:
    inputs = session.get_inputs()
    if len(inputs) == 1 and _tensor_width(inputs[0]) != 1:
        columns = [_as_input_type(column, inputs[0].type) for column in batch.columns]
        return {inputs[0].name: numpy.column_stack(columns)}
    feed = {}
    for item in inputs:
        values = _as_input_type(batch.column(item.name), item.type)
        feed[item.name] = values.reshape(-1, 1) if _tensor_width(item) == 1 else values
    return feed


def _as_input_type(column: pyarrow.Array | pyarrow.ChunkedArray, onnx_type: str) -> numpy.ndarray:
    values = column.to_numpy(zero_copy_only=False)
    if onnx_type == "tensor(string)":
        # Missing strings become "None", which a one-hot encoder ignores as an unknown category,
        # exactly as scikit-learn's handle_unknown="ignore" treats None.
        return numpy.asarray(values, dtype=object).astype(str)
    dtypes = {
        "tensor(double)": numpy.float64,
        "tensor(int64)": numpy.int64,
        "tensor(int32)": numpy.int32,
        "tensor(bool)": numpy.bool_,
    }
    return numpy.asarray(values, dtype=dtypes.get(onnx_type, numpy.float32))


def _zipmap_column(rows: list[dict[Any, float]], key: Any) -> numpy.ndarray:
    return numpy.fromiter((row[key] for row in rows), dtype=numpy.float64, count=len(rows))
