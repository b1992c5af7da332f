"""Shared pieces of the API models: tolerance for the APIs' known inconsistencies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict


class ApiModel(BaseModel):
    """Unknown fields are kept (real APIs add fields); nothing is required unless we cannot work without it."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


# Years 1 to 9999, what a datetime can hold: anything outside is a corrupt value, refused here so
# that it fails validation instead of crashing the conversion to datetime later.
_EARLIEST = datetime(1, 1, 2, tzinfo=UTC).timestamp()
_LATEST = datetime(9999, 12, 30, tzinfo=UTC).timestamp()


def _to_epoch(value: Any) -> float | None:
    """Integer seconds (Admin), float seconds (Compliance) or ISO-8601 (Logs Platform) -> float seconds."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError("a timestamp cannot be a boolean")
    if isinstance(value, int | float):
        return _in_range(float(value))
    if isinstance(value, str):
        try:
            return _in_range(float(value))
        except ValueError as error:
            if "out of range" in str(error):
                raise
        text = value.strip().replace("Z", "+00:00")
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return _in_range(parsed.timestamp())
    raise ValueError(f"not a timestamp: {type(value).__name__}")


def _in_range(epoch: float) -> float:
    if not _EARLIEST <= epoch <= _LATEST:  # also refuses inf and nan
        raise ValueError("timestamp out of range")
    return epoch


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
