"""The whole explanation of the sample model: importance, groups, reason codes, JSON, progress."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy
import pytest

from auditkit.data import Workspace
from auditkit.data.artifacts import load_model
from auditkit.data.datasets import Dataset, load_dataset
from auditkit.data.sources import SourceSpec
from auditkit.errors import InputError
from auditkit.explain import draw_for_explanation, explain_dataset
from auditkit.explain.reasons import code_for
from auditkit.progress import Cancelled, CancelToken, Progress
from tests.explain.conftest import SAMPLE, SAMPLE_ROLES
from tests.shared_datasets import sample_trusted_types


@pytest.fixture(scope="module")
def model() -> Any:
    return load_model(SAMPLE / "credit_model.skops", trust=sample_trusted_types())


def finite_numbers(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(finite_numbers(item) for item in value.values())
    if isinstance(value, list):
        return all(finite_numbers(item) for item in value)
    return True


def test_report_is_json_safe_and_records_how_it_was_made(
    sample_dataset: tuple[Workspace, Dataset], model: Any
) -> None:
    workspace, dataset = sample_dataset
    report = explain_dataset(workspace, dataset, model, sample_size=600, seed=3)
    document = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert finite_numbers(document)
    assert document["sample"] | {"stratified_by": None} == {
        "requested": 600,
        "rows": 600,
        "population_rows": 8000,
        "seed": 3,
        "strata": document["sample"]["strata"],
        "stratified_by": None,
        "weighted": True,
        "limited_by": None,
    }
    assert document["method"]["additive"] is True
    assert set(document["timings"]) == {"sample", "attributions", "groups", "proxies", "reasons"}
    shares = [item["share"] for item in document["importance"]]
    assert sum(shares) == pytest.approx(1.0) and shares == sorted(shares, reverse=True)
    # The model never sees sex, race or age: none of them is an explained feature.
    assert {"sex", "race", "age_band"}.isdisjoint(
        item["feature"] for item in document["importance"]
    )


def test_group_importance_is_the_mean_within_each_group(
    sample_dataset: tuple[Workspace, Dataset], model: Any
) -> None:
    """Region matters far more for Black applicants (most live in the two high-risk regions)."""
    workspace, dataset = sample_dataset
    report = explain_dataset(workspace, dataset, model, sample_size=1500)
    race = {g.group: g for g in report.groups if g.attribute == "race"}
    assert None in race and race[None].rows > 0  # the unknown group is reported
    assert race["Black"].mean_abs["region"] > 1.5 * race["White"].mean_abs["region"]
    widest = report.group_differences[0]
    assert (widest.attribute, widest.feature, widest.high_group) == ("race", "region", "Black")
    differences = [item.difference for item in report.group_differences]
    assert differences == sorted(differences, reverse=True)


def test_reason_codes_name_the_features_that_lowered_declined_scores(
    sample_dataset: tuple[Workspace, Dataset], model: Any
) -> None:
    workspace, dataset = sample_dataset
    report = explain_dataset(workspace, dataset, model, sample_size=800, reasons=3)
    reasons = report.reasons
    assert reasons is not None and reasons.k == 3
    declined = workspace.query("SELECT count(*) FROM current WHERE NOT approved::BOOLEAN")[0][0]
    assert 0 < reasons.declined_rows < 800 and declined > 0
    assert all(count.rows <= reasons.declined_rows for count in reasons.codes)
    for example in reasons.examples:
        contributions = [reason["contribution"] for reason in example["reasons"]]
        assert len(contributions) <= 3 and all(value < 0 for value in contributions)
        assert contributions == sorted(contributions)
        for reason in example["reasons"]:
            assert reason["code"].startswith(code_for(reason["feature"], "value"))
    stability = reasons.stability
    assert stability is not None and stability.rows == reasons.declined_rows
    assert stability.top1_agreement is not None and stability.top1_agreement > 0.8
    assert stability.topk_overlap is not None and stability.topk_overlap > 0.8


def test_codes_are_stable_names() -> None:
    assert code_for("debt_ratio", "high") == "RC-DEBT_RATIO-HIGH"
    assert code_for("Credit history (months)", "low") == "RC-CREDIT_HISTORY_MONTHS-LOW"
    assert code_for("region", "value") == "RC-REGION"


def test_progress_is_reported_and_cancellation_stops_the_work(
    sample_dataset: tuple[Workspace, Dataset],
) -> None:
    workspace, dataset = sample_dataset
    onnx = load_model(SAMPLE / "credit_model.onnx")
    seen: list[tuple[str, int, int]] = []
    explain_dataset(
        workspace,
        dataset,
        onnx,
        sample_size=120,
        progress=Progress(lambda *event: seen.append(event)),
    )
    stages = [stage for stage, _, _ in seen]
    assert stages[0] == "sample" and "attributions" in stages and "proxies" in stages
    attribution_events = [(done, total) for stage, done, total in seen if stage == "attributions"]
    assert attribution_events[-1][0] == attribution_events[-1][1]
    assert all(0 <= done <= total for done, total in attribution_events)

    token = CancelToken()

    def cancel_midway(stage: str, done: int, total: int) -> None:
        if stage == "attributions" and done > 0:
            token.cancel()

    with pytest.raises(Cancelled) as cancelled:
        explain_dataset(
            workspace, dataset, onnx, sample_size=400, progress=Progress(cancel_midway, token)
        )
    assert cancelled.value.stage == "attributions"


def test_weights_make_global_importance_a_population_estimate(
    sample_dataset: tuple[Workspace, Dataset], model: Any
) -> None:
    """Importance from a stratified sample is close to importance over every row."""
    workspace, dataset = sample_dataset
    whole = explain_dataset(workspace, dataset, model, sample_size=8000)
    sampled = explain_dataset(workspace, dataset, model, sample_size=2000, seed=5)
    exact = numpy.array([whole.importance_of(f).mean_abs for f in whole.features])  # type: ignore[union-attr]
    estimate = numpy.array([sampled.importance_of(f).mean_abs for f in whole.features])  # type: ignore[union-attr]
    assert numpy.max(numpy.abs(estimate - exact) / exact) < 0.12


def without_timings(report: Any) -> dict[str, Any]:
    document = report.to_dict()
    document.pop("timings")
    return document  # type: ignore[no-any-return]


SAMPLE_SPEC = SourceSpec(str(SAMPLE / "applications_2026q3.parquet"))


@pytest.fixture()
def one_thread_dataset() -> Iterator[tuple[Workspace, Dataset]]:
    """The sample data in a single-threaded workspace: on several threads DuckDB adds up a grouping
    set's floating-point partial sums in the order its threads finish, so a proxy's association can
    differ in its last digit from one scan to the next, prefetched or not."""
    with Workspace(threads=1) as workspace:
        yield workspace, load_dataset(workspace, "current", SAMPLE_SPEC, SAMPLE_ROLES)


def test_the_data_drawn_while_the_model_loads_gives_the_same_report_without_drawing_again(
    one_thread_dataset: tuple[Workspace, Dataset], model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import auditkit.explain
    import auditkit.explain.proxy

    workspace, dataset = one_thread_dataset
    plain = explain_dataset(workspace, dataset, model, sample_size=800, seed=3)
    drawn = draw_for_explanation(workspace, dataset, sample_size=800, seed=3)

    def drawn_again(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("drawn again although it was drawn beforehand")

    monkeypatch.setattr(auditkit.explain, "draw_rows", drawn_again)
    monkeypatch.setattr(auditkit.explain.proxy, "associations", drawn_again)
    assert without_timings(
        explain_dataset(workspace, dataset, model, sample_size=800, seed=3, drawn=drawn)
    ) == without_timings(plain)


def test_data_drawn_for_other_options_or_other_inputs_is_drawn_again(
    one_thread_dataset: tuple[Workspace, Dataset], training_frame: Any
) -> None:
    """A model that reads a sensitive attribute (not a feature column, so its associations were not
    measured beforehand), and a sample size other than the one drawn: the report is still the same."""
    from sklearn.compose import make_column_transformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    from tests.explain.conftest import loaded

    features = ["income", "debt_ratio", "sex"]
    pipeline = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), ["sex"]),
            (SimpleImputer(), ["income", "debt_ratio"]),
        ),
        LogisticRegression(max_iter=500),
    )
    train = training_frame.dropna(subset=features)
    reads_sex = loaded(pipeline.fit(train[features], train["defaulted"]), features)
    workspace, dataset = one_thread_dataset
    drawn = draw_for_explanation(workspace, dataset, sample_size=500, seed=1)
    for size in (500, 400):
        assert without_timings(
            explain_dataset(workspace, dataset, reads_sex, sample_size=size, seed=1, drawn=drawn)
        ) == without_timings(
            explain_dataset(workspace, dataset, reads_sex, sample_size=size, seed=1)
        )


def test_a_data_column_named_like_a_sample_mark_is_refused_with_or_without_drawing_beforehand(
    tmp_path: Path, current_frame: Any, model: Any
) -> None:
    """Data with its own ``__auditkit_weight`` column: drawn with every column, the sample would hold
    two columns of that name. It is refused, naming the column, whether drawn beforehand or not."""
    features = tuple(model.info.feature_names or ())
    data = tmp_path / "marked.parquet"
    current_frame.assign(__auditkit_weight=2.5).to_parquet(data, index=False)
    roles = dataclasses.replace(SAMPLE_ROLES, features=features)
    refused = r"marked\.parquet: column '__auditkit_weight' has the name of a column auditkit adds"
    with Workspace(threads=1) as workspace:
        dataset = load_dataset(workspace, "current", SourceSpec(str(data)), roles)
        with pytest.raises(InputError, match=refused):
            draw_for_explanation(workspace, dataset, sample_size=300, seed=2)
        with pytest.raises(InputError, match=refused):
            explain_dataset(workspace, dataset, model, sample_size=300, seed=2)
