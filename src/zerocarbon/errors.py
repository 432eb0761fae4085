"""One exception hierarchy. Each subclasses the Python built-in a caller would expect to catch."""
from __future__ import annotations

from dataclasses import dataclass, replace


class ZerocarbonError(Exception):
    """Base of every error this package raises on purpose.

    ``column`` names the input column the error is about and ``entity`` the named thing (a site, a meter, a
    line), when there is one: shells and importers read these fields, never the message text.
    """

    column: str | None = None
    entity: str | None = None

    def __init__(self, *args, column: str | None = None, entity: str | None = None):
        super().__init__(*args)
        if column is not None:
            self.column = column
        if entity is not None:
            self.entity = entity


class UnitError(ZerocarbonError, ValueError):
    """A quantity has no unit, an unknown unit, or a unit of the wrong dimension."""

    column = "unit"


class BasisMismatchError(ZerocarbonError, ValueError):
    """An energy quantity on one heating-value basis (GCV/HHV vs NCV/LHV) met a factor on the other."""

    column = "basis"


class FactorNotFoundError(ZerocarbonError, LookupError):
    """No factor in the pinned set matches the activity."""


class NotFoundError(ZerocarbonError, LookupError):
    """A named thing (organisation, site, inventory, batch, factor, file, instance) does not exist."""


class ConflictError(ZerocarbonError, ValueError):
    """New data differs from what is already stored for the same key; nothing was written."""


class MessageError(ZerocarbonError, ValueError):
    """A message (e.g. an MQTT payload) that cannot be read; ``reason`` says what is wrong with it."""

    def __init__(self, reason: str, *, column: str | None = None):
        super().__init__(reason, column=column)
        self.reason = reason


class SettingError(ZerocarbonError, ValueError):
    """A setting of the server or command (an environment variable) holds a value it cannot use; the message
    names the variable and what to set."""


class StorageError(ZerocarbonError, RuntimeError):
    """The database or the data lake cannot be reached or opened; the message says what to check."""


class DoubleClaimError(ZerocarbonError, ValueError):
    """A contractual instrument (certificate MWh) is claimed more than once."""


class InfeasibleError(ZerocarbonError, RuntimeError):
    """No schedule satisfies the hard constraints; the message says which ones to look at."""


class StateError(ZerocarbonError, RuntimeError):
    """The thing exists but its state does not allow this (a batch already withdrawn or superseded)."""


class Cancelled(ZerocarbonError, RuntimeError):
    """Work stopped because someone asked to cancel it; what it had not committed is not stored."""


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
        where = [self.source] if self.source else []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column '{self.column}'")
        return f"{', '.join(where)}: {self.reason}" if where else self.reason


class InputError(ZerocarbonError, ValueError):
    """Input rejected. Carries every problem found so the user can fix them all at once."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        shown = "\n".join(f"  - {p}" for p in self.problems[:50])
        more = f"\n  ... and {len(self.problems) - 50} more" if len(self.problems) > 50 else ""
        super().__init__(
            f"{len(self.problems)} problem(s) in the input; nothing was written:\n{shown}{more}"
        )

    def in_file(self, source: str, column=None) -> InputError:
        """The same problems as a plain :class:`InputError`, attributed to ``source`` where they name no file
        yet; ``column`` (a callable) maps the column names to those the user's file uses."""
        return InputError([replace(p, source=p.source or source,
                                   column=column(p.column) if column and p.column else p.column)
                           for p in self.problems])


class RowsRejected(InputError):
    """Rows refused by a rule that does not know which file they came from (``source`` is empty until a
    caller attributes them with :meth:`InputError.in_file`)."""

    def __init__(self, problems: list[tuple[int | None, str | None, str]] | list[Problem]):
        super().__init__([p if isinstance(p, Problem) else Problem("", p[0], p[1], p[2]) for p in problems])

    def renumbered(self, rows) -> RowsRejected:
        """The same problems, each row passed through ``rows`` (a reader's row number to the file's own)."""
        return type(self)([replace(p, row=rows(p.row)) for p in self.problems])
