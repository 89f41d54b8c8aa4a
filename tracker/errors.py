"""The one error a domain raises when a rule is broken (违反业务规则).

Services and rules raise a subclass of :class:`DomainError` — one per domain
(``OrgError``, ``MeetingError``, ``MatterError`` …) — with a Chinese message
for the user, the input ``field`` it belongs to and the HTTP ``status`` it
answers with. Nobody else needs to translate it:

- the JSON API (:func:`tracker.api.core.endpoint`) answers
  ``{"error": {"code", "message", "fields": {field: message}}}`` with ``status``;
- HTML views (:func:`tracker.web.submit`) put the message beside ``field``
  (or flash it) and answer 422;
- CLI commands print it and exit 1.

It stays a :class:`ValueError` so that pydantic validators that call a rule
turn it into a field error too.
"""

from __future__ import annotations


class DomainError(ValueError):
    """A broken business rule; ``str(exc)`` is the Chinese message for the user.

    Subclasses set class defaults for ``field``, ``status`` and ``code``; a
    raise site may override each.
    """

    field: str | None = None
    status: int = 422
    code: str | None = None

    def __init__(
        self,
        message: str,
        field: str | None = None,
        status: int | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if field is not None:
            self.field = field
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code

    def fields(self) -> dict[str, str]:
        """``{field: message}`` for the JSON error and the form (``body`` without a field)."""
        if self.field is None and self.status != 422:
            return {}
        return {self.field or "body": self.message}
