"""Runs the registry's rules over one scan and says which finding types were evaluated and complete."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from openai_casb.checks.base import Check
from openai_casb.checks.registry import CheckRegistry
from openai_casb.detections import Detection
from openai_casb.inventory.model import FileScan, Inventory
from openai_casb.policy import Policy


class CheckContractError(RuntimeError):
    """A rule emitted something its finding type cannot: a programming error, never user input."""


@dataclass(frozen=True, slots=True)
class Evaluation:
    """What one scan produced.

    `evaluated_type_ids`: types whose required sources were not skipped (their rule ran).
    `complete_type_ids`: evaluated types whose required sources, and optional sources that were
    read, are all complete; only these may resolve instances that were not seen again.
    """

    detections: list[Detection]
    evaluated_type_ids: frozenset[str]
    complete_type_ids: frozenset[str]

    def merged(self, other: Evaluation) -> Evaluation:
        return Evaluation(
            detections=self.detections + other.detections,
            evaluated_type_ids=self.evaluated_type_ids | other.evaluated_type_ids,
            complete_type_ids=self.complete_type_ids | other.complete_type_ids,
        )


def is_evaluated(check: Check, inventory: Inventory) -> bool:
    """Required sources not skipped, and optional sources either complete or skipped.

    An optional source read only partly (say, audit logs cut short) would make its signal look
    absent, and a rule such as "inactive user" would then report people who are in fact active:
    such a type is not evaluated in that scan, and its instances stand as they were.
    """
    meta = check.metadata
    required = all(inventory.state(source) != "skipped" for source in meta.sources)
    return required and all(inventory.state(source) in ("complete", "skipped") for source in meta.optional_sources)


def is_complete(check: Check, inventory: Inventory) -> bool:
    meta = check.metadata
    optional_read = [s for s in meta.optional_sources if inventory.state(s) != "skipped"]
    return inventory.complete(meta.sources) and inventory.complete(optional_read)


def _checked(check: Check, detections: Iterable[Detection]) -> list[Detection]:
    result: list[Detection] = []
    seen: set[str] = set()
    for detection in detections:
        if detection.finding_type_id != check.id:
            raise CheckContractError(f"{check.module} emitted a detection for finding type {detection.finding_type_id}")
        if detection.asset.id in seen:
            raise CheckContractError(f"{check.module} emitted two detections for asset {detection.asset.id}")
        seen.add(detection.asset.id)
        result.append(detection)
    return result


def _evaluate(
    checks: Iterable[Check], inventory: Inventory, run: Callable[[Check], Iterable[Detection]]
) -> Evaluation:
    """Run each check whose sources allow it; note which were evaluated and which complete."""
    detections: list[Detection] = []
    evaluated: set[str] = set()
    complete: set[str] = set()
    for check in checks:
        if not is_evaluated(check, inventory):
            continue
        detections.extend(_checked(check, run(check)))
        evaluated.add(check.id)
        if is_complete(check, inventory):
            complete.add(check.id)
    return Evaluation(detections, frozenset(evaluated), frozenset(complete))


def evaluate_inventory(registry: CheckRegistry, inventory: Inventory, policy: Policy) -> Evaluation:
    """Run every inventory check whose required sources were read (even partly) in this scan."""
    def run(check: Check) -> Iterable[Detection]:
        assert check.inventory_rule is not None
        return check.inventory_rule(inventory, policy)

    return _evaluate([c for c in registry.inventory_checks if c.inventory_rule is not None], inventory, run)


def evaluate_file_scans(
    registry: CheckRegistry, inventory: Inventory, file_scans: Iterable[FileScan], policy: Policy
) -> Evaluation:
    """Run the DLP checks over DLP's verdicts; source states (incl. the dlp.* ones) come from `inventory`."""
    scans = list(file_scans)

    def run(check: Check) -> Iterable[Detection]:
        assert check.file_rule is not None
        return check.file_rule(scans, policy)

    return _evaluate([c for c in registry.file_checks if c.file_rule is not None], inventory, run)
