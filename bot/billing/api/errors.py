"""The API's one error shape, `{"error": {"code", "message"}}`, for its own refusals and FastAPI's.

Callers (bot/billing/client.py, the actions) branch on `code`; `message` is for logs and people
reading the API. Validation errors add `details` (FastAPI's list) so a 422 says which field.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.billing import schemas

# Declared on every route that needs the service token, so the OpenAPI document (and the
# schemathesis run over it) knows every refusal has the one body.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": schemas.ErrorBody} for code in (400, 401, 403, 404, 409, 422, 429)
}
FRAMEWORK_CODES = {404: "not_found", 405: "method_not_allowed"}


class ApiError(Exception):
    """An error the API answers with `{"error": {"code", "message"}}`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_response(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"error": {"code": code, "message": message, **extra}}
    return JSONResponse(status_code=status, content=body)


async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = jsonable_encoder(exc.errors())
    return error_response(422, "invalid_request", "The request is not valid.", details=details)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = FRAMEWORK_CODES.get(exc.status_code, "http_error")
    return error_response(exc.status_code, code, str(exc.detail))


def install_error_handlers(app: FastAPI) -> None:
    """Every error the app answers, in the one shape (never FastAPI's `{"detail": ...}`)."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
