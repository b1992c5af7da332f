"""OpenAI's error envelope `{"error":{"message","type","param","code"}}` and the exception that carries it."""

from __future__ import annotations

from starlette.responses import JSONResponse


class ApiError(Exception):
    """Raised by a handler to answer with an error envelope."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        error_type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_type = error_type
        self.param = param
        self.code = code
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        return error_response(
            self.status,
            self.message,
            error_type=self.error_type,
            param=self.param,
            code=self.code,
            headers=self.headers,
        )


def error_body(message: str, error_type: str, param: str | None, code: str | None) -> dict[str, object]:
    return {"error": {"message": message, "type": error_type, "param": param, "code": code}}


def error_response(
    status: int,
    message: str,
    *,
    error_type: str = "invalid_request_error",
    param: str | None = None,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(error_body(message, error_type, param, code), status_code=status, headers=headers)


def not_found(what: str, object_id: str) -> ApiError:
    return ApiError(404, f"No {what} found with id '{object_id}'.", code="not_found")
