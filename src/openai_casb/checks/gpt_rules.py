"""Rules over custom GPTs' newest configuration (Compliance API `/gpts`, `latest_config`).

Third-party GPTs (no `sharing`, no `owner_id`) are inventoried but raise nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

from openai_casb.checks.common import gpt_asset, gpt_context
from openai_casb.detections import Detection
from openai_casb.inventory.model import Inventory


def gpts_with_tool(inventory: Inventory, finding_type_id: str, tool_type: str) -> Iterator[Detection]:
    """One detection per workspace GPT having at least one tool of `type` == tool_type."""
    for gpt in inventory.gpts:
        if gpt.third_party:
            continue
        tools = [tool for tool in gpt.tools if tool.type == tool_type]
        if not tools:
            continue
        evidence = {
            "summary": f"GPT {gpt.name or gpt.id!r} has {len(tools)} tool(s) of type {tool_type!r}",
            "rule": f"latest_config.tools[].type == {tool_type!r}",
            "tool_type": tool_type,
            "tool_count": len(tools),
            "tools": [
                {"type": tool.type, "action_domain": tool.action_domain, "auth_type": tool.auth_type} for tool in tools
            ],
            **gpt_context(gpt),
        }
        yield Detection(finding_type_id=finding_type_id, asset=gpt_asset(gpt), evidence=evidence)


def gpts_with_visibility(inventory: Inventory, finding_type_id: str, visibility: str) -> Iterator[Detection]:
    """One detection per workspace GPT whose `sharing.visibility` equals `visibility`."""
    for gpt in inventory.gpts:
        if gpt.third_party or gpt.visibility != visibility:
            continue
        evidence = {
            "summary": f"GPT {gpt.name or gpt.id!r} is shared with visibility {visibility!r}",
            "rule": f"sharing.visibility == {visibility!r}",
            **gpt_context(gpt),
        }
        yield Detection(finding_type_id=finding_type_id, asset=gpt_asset(gpt), evidence=evidence)
