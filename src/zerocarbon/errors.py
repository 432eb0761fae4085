"""One exception hierarchy. Each subclasses the Python built-in a caller would expect to catch."""
from __future__ import annotations

from dataclasses import dataclass


class ZerocarbonError(Exception):
    """Base of every error this package raises on purpose."""


class UnitError(ZerocarbonError, ValueError):
    """A quantity has no unit, an unknown unit, or a unit of the wrong dimension."""


class BasisMismatchError(ZerocarbonError, ValueError):
    """An energy quantity on one heating-value basis (GCV/HHV vs NCV/LHV) met a factor on the other."""


class FactorNotFoundError(ZerocarbonError, LookupError):
    """No factor in the pinned set matches the activity."""


class NotFoundError(ZerocarbonError, LookupError):
    """A named thing (organisation, inventory, batch, factor, file) does not exist."""


class StorageError(ZerocarbonError, RuntimeError):
    """The database or the data lake cannot be reached or opened; the message says what to check."""


class DoubleClaimError(ZerocarbonError, ValueError):
    """A contractual instrument (certificate MWh) is claimed more than once."""


class InfeasibleError(ZerocarbonError, RuntimeError):
    """No schedule satisfies the hard constraints; the message says which ones to look at."""


class StateError(ZerocarbonError, RuntimeError):
    """The thing exists but its state does not allow this (a batch already withdrawn or superseded)."""


class ClosedInventoryError(ZerocarbonError, RuntimeError):
    """A closed inventory would change without a recorded recalculation."""


class AuthenticationError(ZerocarbonError, PermissionError):
    """No valid credentials: unknown or wrong e-mail/password, an expired session, a revoked or unknown token."""


class PermissionDeniedError(ZerocarbonError, PermissionError):
    """The caller is known but its role or token scope does not allow the action."""


class RateLimitedError(ZerocarbonError, RuntimeError):
    """Too many attempts (e.g. failed logins); ``retry_after`` says in how many seconds to try again."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one cell of an input file."""

    source: str
    row: int | None
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = self.source
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column '{self.column}'"
        return f"{where}: {self.reason}"


class InputError(ZerocarbonError, ValueError):
    """Input rejected. Carries every problem found so the user can fix them all at once."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        shown = "\n".join(f"  - {p}" for p in self.problems[:50])
        more = f"\n  ... and {len(self.problems) - 50} more" if len(self.problems) > 50 else ""
        super().__init__(
            f"{len(self.problems)} problem(s) in the input; nothing was written:\n{shown}{more}"
        )
