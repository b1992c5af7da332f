from datetime import UTC, datetime
from types import ModuleType

import pytest

from openai_casb.checks.findings import (
    dlp_gpt_file,
    gpt_code_interpreter,
    gpt_custom_actions,
    gpt_public_link,
    gpt_store_public,
    gpt_web_browsing,
)
from openai_casb.inventory.model import AssetKind, Gpt, GptTool, Inventory
from openai_casb.policy import Policy

NOW = datetime(2026, 6, 1, tzinfo=UTC)
TOOL_CHECKS = [
    (gpt_custom_actions, "custom_action"),
    (gpt_code_interpreter, "code_interpreter"),
    (gpt_web_browsing, "browser"),
]
VISIBILITY_CHECKS = [(gpt_store_public, "gpt-store"), (gpt_public_link, "anyone-with-link")]
ALL_CHECKS = [module for module, _ in TOOL_CHECKS + VISIBILITY_CHECKS]


def gpt(tools: tuple[GptTool, ...] = (), visibility: str | None = "workspace", owner_id: str | None = "user-1") -> Gpt:
    return Gpt(
        id="g-1",
        name="Sales helper",
        owner_id=owner_id,
        owner_email="owner@example.com",
        builder_name="Owner",
        visibility=visibility,
        tools=tools,
        config_id="cfg-9",
    )


@pytest.mark.parametrize(("module", "tool_type"), TOOL_CHECKS)
def test_tool_checks_fire_only_on_their_tool_type(module: ModuleType, tool_type: str) -> None:
    others = [t for _, t in TOOL_CHECKS if t != tool_type]
    without = Inventory(now=NOW, gpts=[gpt(tools=tuple(GptTool(type=t) for t in others))])
    with_tool = Inventory(now=NOW, gpts=[gpt(tools=(GptTool(type=tool_type, action_domain="api.example.com"),))])
    assert list(module.evaluate(without, Policy())) == []
    (detection,) = module.evaluate(with_tool, Policy())
    assert detection.asset.kind is AssetKind.GPT
    assert detection.asset.email == "owner@example.com"
    assert detection.asset.link == "https://chatgpt.com/admin/gpts"
    assert detection.evidence["tools"][0]["type"] == tool_type
    assert detection.evidence["config_id"] == "cfg-9"


def test_custom_action_evidence_lists_every_action() -> None:
    tools = (
        GptTool(type="custom_action", action_domain="a.example.com", auth_type="none"),
        GptTool(type="custom_action", action_domain="b.example.com", auth_type="oauth"),
        GptTool(type="browser"),
    )
    (detection,) = gpt_custom_actions.evaluate(Inventory(now=NOW, gpts=[gpt(tools=tools)]), Policy())
    assert detection.evidence["tool_count"] == 2
    assert [t["action_domain"] for t in detection.evidence["tools"]] == ["a.example.com", "b.example.com"]


@pytest.mark.parametrize(("module", "visibility"), VISIBILITY_CHECKS)
def test_visibility_checks(module: ModuleType, visibility: str) -> None:
    for other in ("workspace", "invite-only", "workspace-with-link"):
        inventory = Inventory(now=NOW, gpts=[gpt(visibility=other)])
        assert list(module.evaluate(inventory, Policy())) == []
    (detection,) = module.evaluate(Inventory(now=NOW, gpts=[gpt(visibility=visibility)]), Policy())
    assert detection.evidence["visibility"] == visibility


@pytest.mark.parametrize("module", ALL_CHECKS)
def test_third_party_gpts_raise_nothing(module: ModuleType) -> None:
    tools = tuple(GptTool(type=t) for _, t in TOOL_CHECKS)
    third_party = gpt(tools=tools, visibility=None, owner_id=None)
    assert third_party.third_party
    assert list(module.evaluate(Inventory(now=NOW, gpts=[third_party]), Policy())) == []


@pytest.mark.parametrize("module", [*ALL_CHECKS, dlp_gpt_file], ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_gpt_remediation_says_retiring_or_migrating_may_be_the_fix(module: ModuleType) -> None:
    """remediation.md section 0: custom GPTs are being retired (findings 1-5 and 14)."""
    steps = module.METADATA.remediation.steps
    (step,) = [s for s in steps if "retired" in s]
    assert "Dec 11 2026" in step
    assert "Retiring the GPT, or migrating it now, may be the fix rather than reconfiguring it" in step
    faq = "https://help.openai.com/en/articles/20001519-custom-gpt-retirement-and-migration-faq"
    assert faq in step
    assert faq in [str(url) for url in module.METADATA.references]
