"""Finding types as checks: metadata, a registry that discovers them, and their evaluation.

Each finding type is one module in `openai_casb.checks.findings`. Use `default_registry()` for the
catalog and `evaluate_inventory` / `evaluate_file_scans` to run it over a scan.
"""

from openai_casb.checks.base import CATALOG_VERSION, Check, CheckKind, CheckMetadata, Group, Remediation
from openai_casb.checks.evaluate import (
    CheckContractError,
    Evaluation,
    evaluate_file_scans,
    evaluate_inventory,
)
from openai_casb.checks.registry import CheckRegistry, RegistryError, default_registry, discover

__all__ = [
    "CATALOG_VERSION",
    "Check",
    "CheckContractError",
    "CheckKind",
    "CheckMetadata",
    "CheckRegistry",
    "Evaluation",
    "Group",
    "RegistryError",
    "Remediation",
    "default_registry",
    "discover",
    "evaluate_file_scans",
    "evaluate_inventory",
]
