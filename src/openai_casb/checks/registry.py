"""Discovers the finding-type modules and validates them as a whole, failing loudly at load."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable, Iterator
from functools import cache
from types import ModuleType

from pydantic import ValidationError

from openai_casb.checks.base import Check, CheckMetadata
from openai_casb.detections import FindingTypeInfo

FINDINGS_PACKAGE = "openai_casb.checks.findings"


class RegistryError(RuntimeError):
    """A finding-type module or the catalog as a whole is invalid."""


def check_from_module(module: ModuleType) -> Check:
    """Build a `Check` from a module exposing METADATA and `evaluate` or `evaluate_files`."""
    name = module.__name__
    raw = getattr(module, "METADATA", None)
    if raw is None:
        raise RegistryError(f"{name}: no METADATA defined")
    try:
        metadata = raw if isinstance(raw, CheckMetadata) else CheckMetadata.model_validate(raw)
    except ValidationError as error:
        raise RegistryError(f"{name}: invalid METADATA: {error}") from None
    inventory_rule = getattr(module, "evaluate", None)
    file_rule = getattr(module, "evaluate_files", None)
    if (inventory_rule is None) == (file_rule is None):
        raise RegistryError(
            f"{name}: define exactly one of evaluate(inventory, policy) or evaluate_files(scans, policy)"
        )
    rule = inventory_rule if inventory_rule is not None else file_rule
    if not callable(rule):
        raise RegistryError(f"{name}: its rule is not callable")
    check = Check(metadata=metadata, module=name, inventory_rule=inventory_rule, file_rule=file_rule)
    if (check.kind == "file") != metadata.group.name.startswith("DATA_LOSS"):
        raise RegistryError(f"{name}: DLP finding types take evaluate_files, the others evaluate")
    return check


class CheckRegistry:
    """The validated catalog: unique ids and names, ordered by group, then severity, then name."""

    def __init__(self, checks: Iterable[Check]) -> None:
        ordered = sorted(checks, key=lambda c: (c.metadata.group.order, -c.metadata.severity, c.metadata.name))
        if not ordered:
            raise RegistryError("no finding types found")
        self._by_id: dict[str, Check] = {}
        self._by_name: dict[str, Check] = {}
        for check in ordered:
            meta = check.metadata
            if meta.id in self._by_id:
                other = self._by_id[meta.id].module
                raise RegistryError(f"duplicate finding type id {meta.id} in {check.module} and {other}")
            if meta.name in self._by_name:
                raise RegistryError(f"duplicate finding type name {meta.name!r} in {check.module}")
            self._by_id[meta.id] = check
            self._by_name[meta.name] = check
        self.checks: tuple[Check, ...] = tuple(ordered)

    def __iter__(self) -> Iterator[Check]:
        return iter(self.checks)

    def __len__(self) -> int:
        return len(self.checks)

    @property
    def inventory_checks(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.kind == "inventory")

    @property
    def file_checks(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.kind == "file")

    def get(self, finding_type_id: str) -> Check:
        try:
            return self._by_id[finding_type_id]
        except KeyError:
            raise KeyError(f"unknown finding type id {finding_type_id!r}") from None

    def resolve(self, id_or_name: str) -> Check | None:
        """The check with this exact id or exact name, else None."""
        return self._by_id.get(id_or_name) or self._by_name.get(id_or_name)

    def infos(self) -> list[FindingTypeInfo]:
        return [c.metadata.info() for c in self.checks]


def discover(package_name: str = FINDINGS_PACKAGE) -> CheckRegistry:
    """Import every module of the package and validate the catalog they form."""
    try:
        package = importlib.import_module(package_name)
    except ImportError as error:
        raise RegistryError(f"cannot import finding types package {package_name}: {error}") from error
    checks = []
    for info in pkgutil.iter_modules(package.__path__, prefix=f"{package_name}."):
        if info.ispkg or info.name.rsplit(".", 1)[-1].startswith("_"):
            continue
        try:
            module = importlib.import_module(info.name)
        except Exception as error:  # a broken module must stop the load, with its name
            raise RegistryError(f"{info.name}: failed to import: {error}") from error
        checks.append(check_from_module(module))
    return CheckRegistry(checks)


@cache
def default_registry() -> CheckRegistry:
    """The product's catalog, loaded once per process."""
    return discover()
