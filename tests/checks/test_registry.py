import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from pydantic import ValidationError

from openai_casb.checks import CATALOG_VERSION, CheckMetadata, Group, RegistryError, default_registry, discover
from openai_casb.checks.findings import admin_key_not_rotated
from openai_casb.checks.registry import CheckRegistry, check_from_module
from openai_casb.detections import Severity

# findings.md, to the letter: id, name, severity, enterprise.
EXPECTED = [
    ("5a2995f5-0cc1-4af3-9045-cdf7e6601f7b", "OpenAI: GPT with Custom Actions enabled", "High", True),
    ("d368036a-be90-49f0-b7da-5092a3f8beb4", "OpenAI: GPT with Code Interpreter enabled", "Medium", True),
    ("3af14358-5ff2-4502-921e-7ffd9a310093", "OpenAI: GPT with web browsing enabled", "Medium", True),
    ("c69adfa6-2362-4939-86ec-49ff34093cfd", "OpenAI: GPT publicly accessible via GPT Store", "High", True),
    ("de460c9f-55c0-4131-9cdf-e4c3b84f9549", "OpenAI: GPT publicly accessible via public link", "High", True),
    ("b72e971d-f5b9-4cf3-96f4-ef82bdf38453", "OpenAI: Admin API key not rotated", "High", False),
    ("2c079fe8-6188-43e1-a2e5-d0e2dd8c7686", "OpenAI: Project API key not rotated", "High", False),
    ("49c75a36-1e64-437b-98a1-e54ec35d0a64", "OpenAI: Unused admin API key", "Medium", False),
    ("c8fd231b-de51-43cc-8c3f-e1e57114c5f5", "OpenAI: Unused project API key", "Medium", False),
    ("776ceb93-fa9a-4ca0-83db-668a67c09936", "OpenAI: High-privilege invite", "High", False),
    ("20ab9ddb-fd48-46a8-9fdf-9bb9b9061f21", "OpenAI: Inactive user", "Medium", False),
    ("18fd5b21-8489-485e-9c93-0bd4a696e724", "OpenAI: Stale pending invite", "Low", False),
    (
        "9aca654d-b331-4052-a5b4-2ceecced8676",
        "OpenAI: File in ChatGPT Conversation with DLP Profile match",
        "High",
        True,
    ),
    ("520200f5-7dcc-42c9-bc3c-423019159d45", "OpenAI: File in ChatGPT GPT with DLP Profile match", "High", True),
    ("8e46ec69-e5c1-4f53-ab00-a92f2050ec33", "OpenAI: File in ChatGPT Project with DLP Profile match", "High", False),
]


def test_catalog_matches_findings_reference_in_order() -> None:
    actual = [(c.id, c.metadata.name, c.metadata.severity.label, c.metadata.enterprise) for c in default_registry()]
    assert actual == EXPECTED


def test_groups_in_order_and_kinds() -> None:
    registry = default_registry()
    assert [g.order for g in Group] == [1, 2, 3, 4, 5]
    orders = [c.metadata.group.order for c in registry]
    assert orders == sorted(orders)
    assert len(registry.inventory_checks) == 12
    assert {c.metadata.group for c in registry.file_checks} == {Group.DATA_LOSS_PREVENTION}
    assert len(registry.file_checks) == 3


def test_every_type_has_remediation_and_info() -> None:
    for check in default_registry():
        meta = check.metadata
        assert meta.remediation.steps
        assert str(meta.remediation.console_url).startswith("https://")
        info = meta.info()
        assert info.id == meta.id
        assert info.group_order == meta.group.order
        assert info.sources == meta.sources


def test_resolve_by_id_or_exact_name() -> None:
    registry = default_registry()
    assert registry.resolve("OpenAI: Inactive user") is registry.get("20ab9ddb-fd48-46a8-9fdf-9bb9b9061f21")
    assert registry.resolve("openai: inactive user") is None
    with pytest.raises(KeyError, match="unknown finding type id"):
        registry.get("nope")


def _metadata(**changes: Any) -> dict[str, Any]:
    data = admin_key_not_rotated.METADATA.model_dump()
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"id": "not-a-uuid"}, "is not a UUID"),
        ({"id": "B72E971D-F5B9-4CF3-96F4-EF82BDF38453"}, "lower-case canonical"),
        ({"group": "Misc"}, "group"),
        ({"name": "Admin key old"}, "must start with 'OpenAI: '"),
        ({"remediation": {"console_url": "https://x.example", "steps": []}}, "steps"),
        ({"remediation": {"console_url": "https://x.example", "steps": ["  "]}}, "blank"),
        ({"sources": []}, "sources"),
        ({"references": ["not a url"]}, "references"),
        ({"severity": 9}, "severity"),
        ({"asset_kind": "gpt_file"}, "only DLP finding types"),
        ({"optional_sources": ["admin.admin_api_keys"]}, "both required and optional"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_metadata_is_rejected(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        CheckMetadata.model_validate(_metadata(**changes))


def _module(name: str, **attributes: Any) -> ModuleType:
    module = ModuleType(name)
    for key, value in attributes.items():
        setattr(module, key, value)
    return module


def _rule(inventory: object, policy: object) -> list[object]:
    return []


def test_module_validation() -> None:
    with pytest.raises(RegistryError, match="no METADATA"):
        check_from_module(_module("m1", evaluate=_rule))
    with pytest.raises(RegistryError, match="invalid METADATA"):
        check_from_module(_module("m2", METADATA=_metadata(id="x"), evaluate=_rule))
    with pytest.raises(RegistryError, match="exactly one of"):
        check_from_module(_module("m3", METADATA=admin_key_not_rotated.METADATA))
    with pytest.raises(RegistryError, match="not callable"):
        check_from_module(_module("m4", METADATA=admin_key_not_rotated.METADATA, evaluate=3))
    with pytest.raises(RegistryError, match="DLP finding types take evaluate_files"):
        check_from_module(_module("m5", METADATA=admin_key_not_rotated.METADATA, evaluate_files=_rule))
    check = check_from_module(_module("m6", METADATA=_metadata(), evaluate=_rule))
    assert check.kind == "inventory"


def test_duplicates_are_rejected() -> None:
    check = check_from_module(_module("a", METADATA=admin_key_not_rotated.METADATA, evaluate=_rule))
    renamed = _metadata(name="OpenAI: Other")
    same_id = check_from_module(_module("b", METADATA=renamed, evaluate=_rule))
    with pytest.raises(RegistryError, match="duplicate finding type id"):
        CheckRegistry([check, same_id])
    same_name = check_from_module(
        _module("c", METADATA=_metadata(id="00000000-0000-4000-8000-000000000000"), evaluate=_rule)
    )
    with pytest.raises(RegistryError, match="duplicate finding type name"):
        CheckRegistry([check, same_name])
    with pytest.raises(RegistryError, match="no finding types"):
        CheckRegistry([])


def test_discover_fails_loudly_on_a_broken_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "casb_broken_findings"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "good.py").write_text(
        "from openai_casb.checks.findings.admin_key_not_rotated import METADATA, evaluate\n"
    )
    (package / "bad.py").write_text("METADATA = {'id': 'nope'}\ndef evaluate(inventory, policy):\n    return []\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        with pytest.raises(RegistryError, match=r"casb_broken_findings\.bad: invalid METADATA"):
            discover("casb_broken_findings")
        (package / "bad.py").write_text("raise RuntimeError('boom')\n")
        sys.modules.pop("casb_broken_findings.bad", None)
        with pytest.raises(RegistryError, match="failed to import: boom"):
            discover("casb_broken_findings")
        (package / "bad.py").unlink()
        sys.modules.pop("casb_broken_findings.bad", None)
        assert len(discover("casb_broken_findings")) == 1
    finally:
        for name in [n for n in sys.modules if n.startswith("casb_broken_findings")]:
            sys.modules.pop(name)
    with pytest.raises(RegistryError, match="cannot import"):
        discover("casb_no_such_package")


def test_changelog_mentions_current_catalog_version() -> None:
    changelog = (Path(__file__).parents[2] / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## Catalog {CATALOG_VERSION}" in changelog
    for _, name, _, _ in EXPECTED:
        assert name in changelog


def test_severity_labels_parse_back() -> None:
    for check in default_registry():
        assert Severity.parse(check.metadata.severity.label) is check.metadata.severity


def test_finding_types_doc_covers_every_type() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "finding-types.md").read_text(encoding="utf-8")
    assert f"catalog {CATALOG_VERSION}" in doc
    for check in default_registry():
        assert check.id in doc
        assert f"### {check.metadata.name}" in doc
        assert str(check.metadata.remediation.console_url) in doc


def test_finding_types_doc_carries_every_remediation_text() -> None:
    """docs/finding-types.md is written from the metadata: a changed step, note, call or reference shows there."""
    doc = (Path(__file__).parents[2] / "docs" / "finding-types.md").read_text(encoding="utf-8")
    for check in default_registry():
        remediation = check.metadata.remediation
        for text in (*remediation.steps, *remediation.notes, *remediation.api_calls):
            assert text in doc, (check.metadata.name, text)
        for url in check.metadata.references:
            assert str(url) in doc, (check.metadata.name, url)
