"""Argument checks shared by every module: one rule for what counts as a number.

- NumPy numbers (``np.int64(32)``, ``np.float64(0.5)``, e.g. from ``np.linspace``) are
  accepted and returned as plain Python numbers, so they never leak into a config or a
  checkpoint.
- ``True`` and ``False`` are not numbers: ``seed=True`` is refused, not read as 1.
- Real numbers must be finite: NaN and infinity are refused.
- A bad value raises ``ValueError`` naming the argument and what it may be.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

import numpy as np

__all__ = ["as_int", "as_float", "as_bool", "one_of", "as_seed", "MAX_SEED"]

MAX_SEED = 2**64 - 1
"""The largest seed torch accepts."""


def _allowed(kind: str, low: Any, high: Any, low_open: bool, high_open: bool,
             none_ok: bool, why: str) -> str:
    """E.g. ``"an integer >= 1"``, ``"a finite number in (0, 1]"``, ``"... or None"``."""
    if kind == "an integer" and low == 0 and high is None:
        text = "a non-negative integer"
    elif low is not None and high is not None:
        text = f"{kind} in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    elif low is not None:
        text = f"{kind} {'>' if low_open else '>='} {low}"
    elif high is not None:
        text = f"{kind} {'<' if high_open else '<='} {high}"
    else:
        text = kind
    text = f"{text} ({why})" if why else text
    return f"{text} or None" if none_ok else text


def as_int(value: Any, name: str, low: int | None = None, high: int | None = None, *,
           none_ok: bool = False, why: str = "") -> int | None:
    """``value`` as a Python ``int`` in ``[low, high]`` (either bound optional).

    Accepts ``int`` and NumPy integers, not ``bool`` and not floats such as ``32.0``.
    ``None`` passes through when ``none_ok``; ``why`` explains the bounds in the error.
    """
    if value is None and none_ok:
        return None
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        number = int(value)
        if (low is None or number >= low) and (high is None or number <= high):
            return number
    allowed = _allowed("an integer", low, high, False, False, none_ok, why)
    raise ValueError(f"{name} must be {allowed}, got {value!r}")


def as_seed(value: Any, name: str = "seed") -> int:
    """``value`` as a seed: an integer from 0 to ``2**64 - 1`` (torch's limit)."""
    seed = as_int(value, name, 0)
    if seed > MAX_SEED:
        raise ValueError(f"{name} must be a non-negative integer below 2**64, got {value!r}")
    return seed


def as_float(value: Any, name: str, low: float | None = None, high: float | None = None, *,
             low_open: bool = False, high_open: bool = False,
             none_ok: bool = False, why: str = "") -> float | None:
    """``value`` as a finite Python ``float`` between ``low`` and ``high``.

    The bounds are included unless ``low_open`` / ``high_open``. Accepts Python and
    NumPy integers and floats, not ``bool``.
    """
    if value is None and none_ok:
        return None
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:  # an int too large for a float
            number = math.inf
        if (
            math.isfinite(number)
            and (low is None or (number > low if low_open else number >= low))
            and (high is None or (number < high if high_open else number <= high))
        ):
            return number
    allowed = _allowed("a finite number", low, high, low_open, high_open, none_ok, why)
    raise ValueError(f"{name} must be {allowed}, got {value!r}")


def as_bool(value: Any, name: str) -> bool:
    """``value`` as a Python ``bool``; accepts ``True``/``False`` and NumPy booleans only."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ValueError(f"{name} must be True or False, got {value!r}")


def one_of(value: Any, name: str, allowed: Collection[Any]) -> Any:
    """``value`` itself if it is one of ``allowed`` (e.g. a loss name)."""
    if isinstance(value, str) and value in allowed:
        return value
    choices = ", ".join(repr(a) for a in allowed)
    raise ValueError(f"{name} must be one of {choices}, got {value!r}")
