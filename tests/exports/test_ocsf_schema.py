"""The OCSF export checked against the OCSF schema itself (vendored in ocsf_schema/, see its README).

The checker below knows no OCSF rule of its own: required attributes, attribute types, enums,
siblings, `at_least_one` constraints and the class/category/type identifiers all come from the
vendored class, object and dictionary files, resolved the way the OCSF schema server does
(`extends` chains, class attributes layered over dictionary entries, enums merged).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from openai_casb.checks.registry import default_registry
from openai_casb.detections import AssetRef
from openai_casb.exports.model import (
    ExportFinding,
    ExportFindingType,
    ExportInstance,
    ExportIntegration,
    ExportReport,
)
from openai_casb.exports.ocsf import build_ocsf
from openai_casb.exports.source import export_finding_type

SCHEMA_DIR = Path(__file__).parent / "ocsf_schema"
GOLDEN_OCSF = Path(__file__).parent / "golden" / "report.ocsf.json"
DECLARED_VERSION = "1.5.0"

Json = dict[str, Any]

# OCSF scalar base types and the JSON values that carry them.
_SCALARS: dict[str, tuple[type, ...]] = {
    "string_t": (str,),
    "integer_t": (int,),
    "long_t": (int,),
    "float_t": (int, float),
    "boolean_t": (bool,),
}


def _load(path: Path) -> Json:
    data: Json = json.loads(path.read_text(encoding="utf-8"))
    return data


def _merge(base: Json, override: Json) -> Json:
    """Deep merge as the OCSF server does it: nested dicts (enums) merge, other values replace."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@dataclass(frozen=True)
class Shape:
    """A resolved class or object: attribute definitions (dictionary + own) and constraints."""

    name: str
    attributes: dict[str, Json]
    constraints: Json


class OcsfSchema:
    def __init__(self, root: Path) -> None:
        self.dictionary = _load(root / "dictionary.json")["attributes"]
        self.types = _load(root / "dictionary.json")["types"]["attributes"]
        self.categories = _load(root / "categories.json")["attributes"]
        self.events = {f["name"]: f for f in map(_load, (root / "events").rglob("*.json"))}
        self.objects = {f["name"]: f for f in map(_load, (root / "objects").glob("*.json"))}

    def _chain(self, definition: Json, table: dict[str, Json]) -> list[Json]:
        chain = [definition]
        while (parent := chain[-1].get("extends")) in table:
            chain.append(table[parent])
        return list(reversed(chain))  # root first

    def shape(self, definition: Json, table: dict[str, Json]) -> Shape:
        own: dict[str, Json] = {}
        constraints: Json = {}
        for layer in self._chain(definition, table):
            for name, spec in layer["attributes"].items():
                if name != "$include":  # profile attributes: none of them is emitted
                    own[name] = _merge(own.get(name, {}), spec)
            if "constraints" in layer:  # the most derived declaration wins
                constraints = layer["constraints"]
        resolved = {name: _merge(self.dictionary.get(name, {}), spec) for name, spec in own.items()}
        return Shape(definition["name"], resolved, constraints)

    def event_class(self, class_uid: int) -> tuple[Shape, str, int, str]:
        """The class with that uid: its shape, caption, category uid and category caption."""
        for definition in self.events.values():
            if "uid" not in definition:
                continue
            chain = self._chain(definition, self.events)
            category = next(layer["category"] for layer in reversed(chain) if "category" in layer)
            category_uid = self.categories[category]["uid"]
            if category_uid * 1000 + definition["uid"] == class_uid:
                caption = self.categories[category]["caption"]
                shape = self.shape(definition, self.events)
                # The schema server gives each class its own class_uid/category_uid enums.
                shape.attributes["class_uid"]["enum"] = {str(class_uid): {"caption": definition["caption"]}}
                shape.attributes["category_uid"]["enum"] = {str(category_uid): {"caption": caption}}
                return shape, definition["caption"], category_uid, caption
        raise KeyError(class_uid)

    def base_type(self, type_name: str) -> str:
        while type_name in self.types and "type" in self.types[type_name]:
            type_name = self.types[type_name]["type"]
        return type_name


class Checker:
    def __init__(self, schema: OcsfSchema) -> None:
        self.schema = schema

    def check_event(self, event: Json) -> list[str]:
        errors: list[str] = []
        try:
            shape, caption, category_uid, category_caption = self.schema.event_class(event.get("class_uid", -1))
        except KeyError:
            return [f"class_uid: {event.get('class_uid')!r} is no class of the vendored schema"]
        self._object(event, shape, "", errors)
        activity = shape.attributes["activity_id"]["enum"].get(str(event.get("activity_id")), {})
        expected = {
            "category_uid": category_uid,
            "category_name": category_caption,
            "class_name": caption,
            "type_uid": event.get("class_uid", 0) * 100 + event.get("activity_id", 0),
            "type_name": f"{caption}: {activity.get('caption')}",
        }
        for name, value in expected.items():
            if event.get(name) != value:
                errors.append(f"{name}: {event.get(name)!r}, expected {value!r}")
        return errors

    def _object(self, value: Json, shape: Shape, path: str, errors: list[str]) -> None:
        for name, spec in shape.attributes.items():
            if spec.get("requirement") == "required" and name not in value:
                errors.append(f"{path}{name}: required by {shape.name}, missing")
        for name, item in value.items():
            if name not in shape.attributes:
                errors.append(f"{path}{name}: not an attribute of {shape.name}")
                continue
            self._attribute(item, shape.attributes[name], value, f"{path}{name}", errors)
        names = shape.constraints.get("at_least_one")
        if names and not any(name in value for name in names):
            errors.append(f"{path.rstrip('.') or shape.name}: needs at least one of {names}")

    def _attribute(self, item: Any, spec: Json, parent: Json, path: str, errors: list[str]) -> None:
        if spec.get("is_array"):
            if not isinstance(item, list):
                errors.append(f"{path}: {type(item).__name__}, expected an array")
                return
            for index, element in enumerate(item):
                self._value(element, spec, parent, f"{path}[{index}]", errors)
        else:
            self._value(item, spec, parent, path, errors)

    def _value(self, item: Any, spec: Json, parent: Json, path: str, errors: list[str]) -> None:
        type_name = spec.get("type")
        if type_name is None:
            errors.append(f"{path}: no dictionary entry in the vendored schema")
            return
        if type_name in self.schema.objects:
            if not isinstance(item, dict):
                errors.append(f"{path}: {type(item).__name__}, expected a {type_name} object")
                return
            shape = self.schema.shape(self.schema.objects[type_name], self.schema.objects)
            self._object(item, shape, f"{path}.", errors)
            return
        base = self.schema.base_type(type_name)
        if base == "object" and not isinstance(item, dict):
            errors.append(f"{path}: {type(item).__name__}, expected an object")
        accepted = _SCALARS.get(base)
        if accepted and (not isinstance(item, accepted) or (base != "boolean_t" and isinstance(item, bool))):
            errors.append(f"{path}: {item!r} is not {type_name}")
            return
        enum = spec.get("enum")
        if enum is not None:
            if str(item) not in enum:
                errors.append(f"{path}: {item!r} not in enum {sorted(enum, key=int)}")
                return
            caption = enum[str(item)]["caption"]
            sibling = spec.get("sibling")  # its label must be the enum caption, unless 99 Other
            if sibling and sibling in parent and str(item) != "99" and parent[sibling] != caption:
                errors.append(f"{sibling}: {parent[sibling]!r}, the caption of {item} is {caption!r}")


CHECKER = Checker(OcsfSchema(SCHEMA_DIR))
T0 = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
T1 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _instances(kind_prefix: str, finding: ExportFindingType) -> Iterator[ExportInstance]:
    """One instance per lifecycle status: new, active (seen before), hidden, resolved."""
    kind = finding.asset_kind
    dlp = finding.is_dlp
    for status, is_new in (("active", True), ("active", False), ("hidden", False), ("resolved", False)):
        label = "new" if is_new else status
        evidence: Json = {"matched_profiles": ["Financial information"]} if dlp else {"age_days": 45}
        yield ExportInstance(
            instance_id=f"{kind_prefix}-{label}",
            status=status,  # type: ignore[arg-type]  # one of INSTANCE_STATUSES
            is_new=is_new,
            asset=AssetRef(kind, f"{kind.value}-{label}", name=f"{kind.value} {label}", email="owner@acme.example"),
            evidence=evidence,
            first_detected=T0,
            last_detected=T1,
            resolved_at=T1 + timedelta(days=1) if status == "resolved" else None,
            hidden_reason="accepted" if status == "hidden" else None,
        )
    if dlp:  # a match whose profile list is empty still needs a data_security constraint met
        yield ExportInstance(f"{kind_prefix}-noprofile", "active", AssetRef(kind, f"{kind.value}-np"), {}, T0, T1)


def catalog_report() -> ExportReport:
    """Every finding type of the catalog, each with an instance in every lifecycle status."""
    integration = ExportIntegration(id="int-1", display_name="Acme")
    findings = []
    for check in default_registry():
        finding_type = export_finding_type(check.metadata)
        instances = tuple(_instances(finding_type.id, finding_type))
        findings.append(ExportFinding(integration, finding_type, finding_type.severity, instances))
    return ExportReport(T1, "1.0.0", "0.1.0", tuple(findings), (integration,))


@pytest.fixture(scope="module")
def catalog_events() -> list[Json]:
    return build_ocsf(catalog_report())


def test_report_covers_every_finding_type_class_and_status(catalog_events: list[Json]) -> None:
    assert len({e["metadata"]["event_code"] for e in catalog_events}) == len(list(default_registry())) == 15
    assert {e["class_uid"] for e in catalog_events} == {2003, 2006}
    assert {e["status_id"] for e in catalog_events} == {1, 2, 3, 4}
    assert {e["activity_id"] for e in catalog_events} == {1, 2, 3}


def test_every_catalog_event_conforms_to_the_ocsf_schema(catalog_events: list[Json]) -> None:
    problems = {e["finding_info"]["uid"]: CHECKER.check_event(e) for e in catalog_events}
    assert {uid: errors for uid, errors in problems.items() if errors} == {}


def test_golden_ocsf_export_conforms_to_the_ocsf_schema() -> None:
    for event in json.loads(GOLDEN_OCSF.read_text(encoding="utf-8")):
        assert CHECKER.check_event(event) == []


def test_events_declare_the_vendored_schema_version(catalog_events: list[Json]) -> None:
    assert {e["metadata"]["version"] for e in catalog_events} == {DECLARED_VERSION}


def _compliance_event(catalog_events: list[Json]) -> Json:
    return copy.deepcopy(next(e for e in catalog_events if e["class_uid"] == 2003))


def _dlp_event(catalog_events: list[Json]) -> Json:
    return copy.deepcopy(next(e for e in catalog_events if e["class_uid"] == 2006))


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda e: e.pop("finding_info"), "finding_info: required by compliance_finding"),
        (lambda e: e["metadata"].pop("product"), "metadata.product: required by metadata"),
        (lambda e: e.pop("compliance"), "compliance: required by compliance_finding"),
        (lambda e: e["remediation"].pop("desc"), "remediation.desc: required by remediation"),
        (lambda e: e.update(time="2026-03-01"), "time: '2026-03-01' is not timestamp_t"),
        (lambda e: e.update(severity_id=True), "severity_id: True is not integer_t"),
        (lambda e: e["finding_info"].update(types="group"), "finding_info.types: str, expected an array"),
        (lambda e: e.update(status_id=7), "status_id: 7 not in enum"),
        (lambda e: e["compliance"].update(status_id=4), "compliance.status_id: 4 not in enum"),
        (lambda e: e.update(severity="Severe"), "severity: 'Severe', the caption of"),
        (lambda e: e.update(type_uid=200399), "type_uid: 200399, expected"),
        (lambda e: e.update(category_uid=3), "category_uid: 3, expected 2"),
        (lambda e: e.update(class_name="Finding"), "class_name: 'Finding', expected 'Compliance Finding'"),
        (lambda e: e.update(verdict="bad"), "verdict: not an attribute of compliance_finding"),
        (lambda e: e["resources"][0].update(uid=7), "resources[0].uid: 7 is not resource_uid_t"),
        (lambda e: e.update(class_uid=2099), "class_uid: 2099 is no class"),
    ],
)
def test_checker_reports_each_kind_of_violation(catalog_events: list[Json], mutate: Any, expected: str) -> None:
    event = _compliance_event(catalog_events)
    mutate(event)
    assert any(expected in error for error in CHECKER.check_event(event)), CHECKER.check_event(event)


def test_checker_applies_data_security_finding_rules(catalog_events: list[Json]) -> None:
    event = _dlp_event(catalog_events)
    event["file"].pop("type_id")
    event["data_security"] = {"detection_system": "x"}
    errors = CHECKER.check_event(event)
    assert any("file.type_id: required by file" in error for error in errors)
    assert any("data_security: needs at least one of" in error for error in errors)
