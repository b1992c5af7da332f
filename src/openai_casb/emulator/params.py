"""Query-string parsing with OpenAI-style 400s for bad values."""

from __future__ import annotations

from starlette.datastructures import QueryParams

from openai_casb.emulator.errors import ApiError


def bad_param(param: str, message: str) -> ApiError:
    return ApiError(400, message, param=param, code="invalid_value")


def integer(query: QueryParams, name: str) -> int | None:
    raw = query.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise bad_param(name, f"Invalid '{name}': expected an integer, got '{raw}'.") from None


def limit(query: QueryParams, default: int, maximum: int) -> int:
    value = integer(query, "limit")
    if value is None:
        return default
    if not 1 <= value <= maximum:
        raise bad_param("limit", f"Invalid 'limit': must be between 1 and {maximum}, got {value}.")
    return value


def boolean(query: QueryParams, name: str, default: bool) -> bool:
    raw = query.get(name)
    if raw is None:
        return default
    lowered = raw.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise bad_param(name, f"Invalid '{name}': expected true or false, got '{raw}'.")


def choice(query: QueryParams, name: str, allowed: tuple[str, ...], default: str) -> str:
    raw = query.get(name, default)
    if raw not in allowed:
        raise bad_param(name, f"Invalid '{name}': expected one of {', '.join(allowed)}, got '{raw}'.")
    return raw


def array(query: QueryParams, name: str) -> list[str]:
    """Both `name[]=a&name[]=b` (the SDK's bracket form) and `name=a&name=b`."""
    return [*query.getlist(f"{name}[]"), *query.getlist(name)]
