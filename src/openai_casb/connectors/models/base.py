"""Shared pieces of the API models: tolerance for the APIs' known inconsistencies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict


class ApiModel(BaseModel):
    """Unknown fields are kept (real APIs add fields); nothing is required unless we cannot work without it."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


def _to_epoch(value: Any) -> float | None:
    """Integer seconds (Admin), float seconds (Compliance) or ISO-8601 (Logs Platform) -> float seconds."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError("a timestamp cannot be a boolean")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
        text = value.strip().replace("Z", "+00:00")
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.timestamp()
    raise ValueError(f"not a timestamp: {type(value).__name__}")


Epoch = Annotated[float | None, BeforeValidator(_to_epoch)]


def unwrap_list(value: Any) -> Any:
    """A nested list arrives either bare or as a list envelope `{object:"list", data:[...]}`; null is empty."""
    if value is None:
        return []
    if isinstance(value, dict) and "data" in value:
        return value.get("data") or []
    return value


def _none_is_false(value: Any) -> Any:
    return False if value is None else value


LenientBool = Annotated[bool, BeforeValidator(_none_is_false)]


def to_datetime(epoch: float | None) -> datetime | None:
    return datetime.fromtimestamp(epoch, UTC) if epoch is not None else None
