"""auditkit: governance and audit toolkit for machine-learning models, with policy-as-code."""

__version__ = "0.1.0"
