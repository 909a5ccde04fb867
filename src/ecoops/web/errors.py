"""The shapes of API error answers, declared once for every /api/v1 operation (create_app adds them
at router-include level) so the OpenAPI document lists each status code the API can answer."""

from __future__ import annotations

from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel


class ErrorOut(BaseModel):
    """What went wrong, in one sentence."""

    detail: str


class Problem(BaseModel):
    """One invalid value: where it is (`["body", "stage_since"]`, `["query", "page"]`) and what is wrong."""

    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorOut(BaseModel):
    detail: list[Problem]


def _error(description: str, model: type[BaseModel] = ErrorOut) -> dict[str, Any]:
    return {"model": model, "description": description}


API_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("The request breaks a rule of the data; `detail` says which"),
    401: _error("No valid API token"),
    403: _error("The token's user may not do this"),
    404: _error("No such record, or none the token's user may see"),
    413: _error("Request body too large"),
    422: _error("Invalid parameters or body, each problem with its location", ValidationErrorOut),
}


def problems(error: RequestValidationError) -> list[dict[str, Any]]:
    """The errors as `Problem`s: the input and context pydantic adds are left out (they may echo secrets)."""
    return [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in error.errors()]


def describe(error: RequestValidationError) -> str:
    """The problems in words, for an error page: `page: Input should be less than or equal to …`."""
    texts = []
    for problem in problems(error):
        field = ".".join(map(str, problem["loc"][1:]))  # without "query", "path" or "body"
        texts.append(f"{field}: {problem['msg']}" if field else problem["msg"])
    return "; ".join(texts)


def invalid_request(message: str, *loc: str) -> RequestValidationError:
    """A 422 in the same shape as pydantic's, for a check no annotation can express."""
    return RequestValidationError([{"loc": loc, "msg": message, "type": "value_error"}])
