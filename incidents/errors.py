"""The refusals the services of every feature raise, which pages and the API answer.

A service refuses input with :class:`InputError` (400/422, one reason per field), a change
the user may not make with :class:`NotAllowedError` (403), and an edit made from a form
opened on an older version with :class:`StaleEditError` (409).
"""

from __future__ import annotations


class InputError(ValueError):
    """Input a service refuses, with one reason per form field."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {reason}" for name, reason in problems.items()))
        self.problems = problems


class StaleEditError(Exception):
    """The record changed after the form editing it was opened."""


class NotAllowedError(PermissionError):
    """The user may see the record but not make this change; the message, when there is
    one, tells the user why."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message
