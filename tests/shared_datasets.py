"""Where the public fairness datasets live beside the checkout, and how their raw files are laid out."""

from __future__ import annotations

from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
"""Public fairness datasets kept beside the repository checkout (never copied into it)."""

ADULT_COLUMNS = [
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education_num",
    "marital_status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital_gain",
    "capital_loss",
    "hours_per_week",
    "native_country",
    "income",
]
"""Column names of ``uci_adult.data`` / ``uci_adult.test`` (headerless; see ``uci_adult.names``)."""
