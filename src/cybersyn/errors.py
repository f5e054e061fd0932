"""Domain errors that carry their HTTP status; the CLI and the API render them in one place each.

Every error names what was wrong (field, row, reason) so a person can fix the input.
"""

from __future__ import annotations

from http import HTTPStatus


class CybersynError(Exception):
    """Base of every error a user can cause; `status` is the HTTP status the API answers."""

    status: int = 400

    def __init__(self, detail: str, *, status: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status

    @property
    def title(self) -> str:
        return HTTPStatus(self.status).phrase


class InvalidInput(CybersynError):
    """Input rejected at the edge; nothing was written."""

    status = 422

    def __init__(self, detail: str, *, errors: list[dict[str, object]] | None = None) -> None:
        super().__init__(detail)
        self.errors = errors or []


class NotFound(CybersynError):
    status = 404


class Forbidden(CybersynError):
    status = 403


class Unauthorized(CybersynError):
    status = 401


class Conflict(CybersynError):
    status = 409


class DataLoadError(InvalidInput):
    """A file could not be loaded; names the file, row (1-based, header = row 1) and field."""

    def __init__(self, file: str, row: int | None, field: str | None, reason: str) -> None:
        where = file
        if row is not None:
            where += f" row {row}"
        if field is not None:
            where += f" field {field!r}"
        super().__init__(f"{where}: {reason}", errors=[
            {"file": file, "row": row, "field": field, "reason": reason}])
        self.file, self.row, self.field, self.reason = file, row, field, reason
