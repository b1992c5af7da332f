"""Shared pieces of the API models: tolerance for the APIs' known inconsistencies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, ModelWrapValidatorHandler, PrivateAttr, model_validator


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


def lists_more(value: Any) -> bool:
    """Whether an embedded list envelope says the list goes on past its `data` (`has_more` set and not
    false). Missing or null is read as complete: the Compliance spec leaves `has_more` optional on these
    envelopes, and its real responses carry nulls."""
    return isinstance(value, dict) and "data" in value and value.get("has_more") not in (None, False)


class WithEmbeddedLists(ApiModel):
    """An object that embeds lists (`messages`, `files`, `tools`, `latest_config`): remembers which of
    its `embedded_lists` arrived with `has_more` true, i.e. hold only part of the list (`unwrap_list`
    keeps the data only)."""

    embedded_lists: ClassVar[tuple[str, ...]] = ()
    _lists_more: tuple[str, ...] = PrivateAttr(default=())

    @model_validator(mode="wrap")
    @classmethod
    def _note_lists_with_more(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        model = handler(data)
        if isinstance(data, dict):
            cut = tuple(name for name in cls.embedded_lists if lists_more(data.get(name)))
            if cut:
                model._lists_more = cut
        return model

    def listed_in_full(self, name: str, items: list[Any]) -> None:
        """`name` replaced by its whole list, read from the endpoint that serves it."""
        setattr(self, name, items)
        self._lists_more = tuple(cut for cut in self._lists_more if cut != name)

    def cut_short(self, name: str) -> bool:
        """Whether the embedded list `name` arrived with has_more true."""
        return name in self._lists_more


def incomplete_lists(model: WithEmbeddedLists, prefix: str = "") -> list[str]:
    """Paths of the embedded lists in `model` and the objects it embeds that hold only part of their
    list, e.g. `messages` or `messages[3].files`."""
    found = [prefix + name for name in model._lists_more]
    for name in model.embedded_lists:
        for index, item in enumerate(getattr(model, name)):
            if isinstance(item, WithEmbeddedLists):
                found.extend(incomplete_lists(item, f"{prefix}{name}[{index}]."))
    return found


def _none_is_false(value: Any) -> Any:
    return False if value is None else value


LenientBool = Annotated[bool, BeforeValidator(_none_is_false)]


def to_datetime(epoch: float | None) -> datetime | None:
    return datetime.fromtimestamp(epoch, UTC) if epoch is not None else None
