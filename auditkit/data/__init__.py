"""The data layer: a DuckDB workspace, datasets with column roles, fingerprints and model artifacts."""

from auditkit.data.datasets import ColumnRoles, Dataset, DatasetProblems, load_dataset
from auditkit.data.sources import SourceSpec
from auditkit.data.workspace import Workspace

__all__ = ["ColumnRoles", "Dataset", "DatasetProblems", "SourceSpec", "Workspace", "load_dataset"]
