"""What every handler needs: the org, the config, and the per-request fault decided by the gate."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import Request

from openai_casb.emulator.config import EmulatorConfig
from openai_casb.emulator.org import Org
from openai_casb.emulator.paging import Page
from openai_casb.emulator.sequences import JsonObject


@dataclass
class EmulatorState:
    org: Org
    config: EmulatorConfig


def emulator_state(request: Request) -> EmulatorState:
    state: EmulatorState = request.app.state.emulator
    return state


def fault_of(request: Request) -> str | None:
    fault: str | None = request.scope.get("state", {}).get("fault")
    return fault


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def apply_page_faults(request: Request, page: Page, previous: Callable[[], JsonObject] | None) -> Page:
    """`short_page`: half the page, `has_more` still true. `repeat`: the last object of the previous page
    again (`previous` builds it only when needed)."""
    fault = fault_of(request)
    if fault == "short_page" and len(page.items) > 1:
        return Page(page.items[: len(page.items) // 2], True)
    if fault == "repeat" and previous is not None:
        return Page([previous(), *page.items], page.has_more)
    return page
