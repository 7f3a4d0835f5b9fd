"""Instant feedback for the exercises.

Every exercise in the series follows the same pattern:

1. a stub the learner completes,
2. a ``check_...`` call from this module: it prints a pass message, or raises
   :class:`ExerciseError` with a hint (the cell is tagged ``raises-exception``
   so "Run All" carries on),
3. the reference solution in a collapsed cell,
4. the same check again, which must pass.

A check compares the learner's function against a reference on several cases,
including edge cases a first attempt tends to miss; the hint names the case
that failed, never the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["ExerciseError", "passed", "fail", "call_learner"]


class ExerciseError(AssertionError):
    """Raised by a check when the learner's answer is not right yet."""


def passed(message: str) -> None:
    """Print the pass message of a check."""
    print(f"\N{WHITE HEAVY CHECK MARK} Correct! {message}")


def fail(hint: str) -> None:
    """Stop with a hint for the learner."""
    raise ExerciseError(f"\N{CROSS MARK} Not yet. Hint: {hint}")


def call_learner(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call the learner's function, turning an unfinished stub into a friendly hint."""
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        fail(f"`{getattr(fn, '__name__', 'your function')}` still raises NotImplementedError "
             "-- replace the stub's body with your code.")
    except ExerciseError:
        raise
    except Exception as exc:  # show the learner's own error as a hint, not a traceback maze
        fail(f"`{getattr(fn, '__name__', 'your function')}` raised "
             f"{type(exc).__name__}: {exc}")
