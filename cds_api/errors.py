"""Typed API errors and the one place that turns any exception into an HTTP response.

Every error body is a FHIR ``OperationOutcome`` naming the field at fault (``issue.expression``).
A client's mistake never becomes a 5xx: msgspec decode errors are 400 (not JSON) or 422 (JSON of
the wrong shape); framework errors keep their 4xx status; only a bug in this service is a 500.
"""

from __future__ import annotations

import logging
import re
from typing import Any, TypeVar

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException

LOG = logging.getLogger("kgcds.api")
FHIR_JSON = "application/fhir+json"


class OutcomeIssue(msgspec.Struct, frozen=True, omit_defaults=True):
    severity: str
    code: str
    diagnostics: str
    expression: tuple[str, ...] = ()


class OperationOutcome(msgspec.Struct, frozen=True, tag_field="resourceType", tag="OperationOutcome"):
    issue: tuple[OutcomeIssue, ...]


class ApiError(Exception):
    """An error the client can act on. ``field`` is a FHIRPath-like location in the request."""

    status_code = 400
    issue_code = "invalid"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def headers(self) -> dict[str, str]:
        return {}


class BadRequest(ApiError):
    status_code = 400


class Unprocessable(ApiError):
    """Well-formed JSON that is not what the hook or FHIR requires."""

    status_code = 422
    issue_code = "invalid"


class NotFound(ApiError):
    status_code = 404
    issue_code = "not-found"


class PreconditionFailed(ApiError):
    """Required data was neither prefetched nor fetchable from ``fhirServer`` (CDS Hooks: 412)."""

    status_code = 412
    issue_code = "incomplete"


class Unauthorized(ApiError):
    status_code = 401
    issue_code = "login"

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer error="invalid_token"'}


class Forbidden(ApiError):
    status_code = 403
    issue_code = "forbidden"


T = TypeVar("T")


def decode_body(decoder: msgspec.json.Decoder[T], body: bytes) -> T:
    """Decode client JSON; nesting too deep for the decoder is the client's mistake (400), not ours."""
    try:
        return decoder.decode(body)
    except RecursionError as exc:
        raise BadRequest("request body nests too deeply") from exc


_MSGSPEC_PATH = re.compile(r" - at `\$\.?(?P<path>[^`]*)`$")


def outcome_response(status: int, code: str, message: str, field: str | None = None, **headers: str) -> Response[bytes]:
    issue = OutcomeIssue(
        severity="fatal" if status >= 500 else "error",
        code=code,
        diagnostics=message,
        expression=(field,) if field else (),
    )
    body = msgspec.json.encode(OperationOutcome(issue=(issue,)))
    return Response(content=body, status_code=status, media_type=FHIR_JSON, headers=headers or None)


def validation_error(exc: msgspec.ValidationError, root: str = "") -> Unprocessable:
    """A msgspec validation message (``Expected `str`, got `int` - at `$.context.userId```) with its path."""
    text = str(exc)
    match = _MSGSPEC_PATH.search(text)
    path = match.group("path") if match else ""
    field = ".".join(p for p in (root, path) if p) or None
    message = _MSGSPEC_PATH.sub("", text)
    return Unprocessable(f"{field}: {message}" if field else message, field)


def exception_to_response(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    """The single exception mapper registered on the app for every exception type."""
    if isinstance(exc, ApiError):
        if exc.status_code in (401, 403):
            # Auth failures are logged without the token or any request content.
            LOG.info("refused %s %s: %s", request.method, request.url.path, exc.message)
        return outcome_response(exc.status_code, exc.issue_code, exc.message, exc.field, **exc.headers())
    if isinstance(exc, msgspec.ValidationError):
        err = validation_error(exc)
        return outcome_response(err.status_code, err.issue_code, err.message, err.field)
    if isinstance(exc, msgspec.DecodeError):
        return outcome_response(400, "structure", f"request body is not valid JSON: {exc}")
    if isinstance(exc, HTTPException):
        code = "not-found" if exc.status_code == 404 else "processing"
        return outcome_response(exc.status_code, code, exc.detail, None, **(exc.headers or {}))
    # A bug on our side. The traceback goes to the log; the body says nothing about internals.
    LOG.exception("unhandled error on %s %s", request.method, request.url.path)
    return outcome_response(500, "exception", "internal error while processing the request")
