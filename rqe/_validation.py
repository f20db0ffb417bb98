"""Checks shared by the public functions, with scikit-learn style messages."""

from __future__ import annotations

import functools
import sys
import warnings
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, cast

import numpy as np

_NUMBER = (int, float, np.integer, np.floating)
_F = TypeVar("_F", bound=Callable[..., Any])
_G = TypeVar("_G")


def plain(value):
    """``value`` with numpy scalars and arrays turned into Python numbers and lists (for messages).

    ``repr(np.float64(-1.0))`` is ``'np.float64(-1.0)'`` under numpy 2; messages show ``-1.0``.
    """
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v) for v in value)
    return value


def has_text(value) -> bool:
    """True when ``value`` is a string or an array-like holding strings (numbers written as text)."""
    if isinstance(value, (str, bytes)):
        return True
    if not isinstance(value, (np.ndarray, list, tuple)):
        return False
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError, RecursionError):  # ragged: the caller reports it
        return False
    if arr.dtype.kind in "US":
        return True
    return arr.dtype.kind == "O" and any(isinstance(v, (str, bytes)) for v in arr.ravel())


def per_player(
    value,
    n_players: int,
    *,
    name: str,
    func: str,
    low: float = 0.0,
    low_inclusive: bool = True,
    high: float = np.inf,
) -> np.ndarray:
    """Broadcast a scalar or per-player parameter to a float array of length ``n_players``.

    Raises a ``ValueError`` naming ``name`` and ``func`` when the value is not
    finite, has the wrong shape, or lies outside ``[low, high)`` (``(low, high)``
    when ``low_inclusive`` is false).
    """
    bracket = "[" if low_inclusive else "("
    accepted = (
        f"a float in {bracket}{low:g}, {'inf' if np.isinf(high) else f'{high:g}'})"
        f" or an array of shape ({n_players},)"
    )
    if has_text(value):
        raise TypeError(f"The {name!r} parameter of {func} must be {accepted}, given as numbers. Got text "
                        f"{plain(value)!r} instead.")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(
            f"The {name!r} parameter of {func} must be {accepted}. Got {plain(value)!r} instead."
        ) from None
    if arr.ndim == 0:
        arr = np.full(n_players, float(arr))
    if arr.shape != (n_players,):
        raise ValueError(
            f"The {name!r} parameter of {func} must be {accepted}. Got an array of shape {arr.shape} instead."
        )
    bad = ~np.isfinite(arr) | (arr < low if low_inclusive else arr <= low) | (arr >= high)
    if bad.any():
        shown = plain(value) if np.ndim(value) == 0 else arr.tolist()
        raise ValueError(f"The {name!r} parameter of {func} must be {accepted}. Got {shown!r} instead.")
    return arr


def positive_int(value, *, name: str, func: str, low: int = 1) -> int:
    """Check an integer option such as ``max_iter``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"The {name!r} parameter of {func} must be an int >= {low}. Got {plain(value)!r} instead.")
    return int(value)


def positive_float(value, *, name: str, func: str) -> float:
    """Check a strictly positive finite float option such as ``tol``."""
    if isinstance(value, bool) or not isinstance(value, _NUMBER) or not np.isfinite(value) or value <= 0:
        raise ValueError(f"The {name!r} parameter of {func} must be a float in (0, inf). Got {plain(value)!r} "
                         "instead.")
    return float(value)


def choice(value, options: Iterable[str], *, name: str, func: str) -> str:
    """Check a string option against its list of valid values."""
    options = list(options)
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"The {name!r} parameter of {func} must be one of {options}. Got {plain(value)!r} instead.")
    return value


def finite_array(value, *, name: str, func: str) -> np.ndarray:
    """Convert to a float array, rejecting ragged, non-numeric and non-finite entries."""
    if isinstance(value, np.ndarray) and value.dtype.kind == "c":
        raise TypeError(f"The {name!r} parameter of {func} must be real. Got complex numbers instead.")
    if has_text(value):
        raise TypeError(f"The {name!r} parameter of {func} must be an array of finite real numbers. Got text "
                        f"(numbers must not be given as strings) instead.")
    try:
        arr = np.array(value, dtype=float)
    except (TypeError, ValueError) as exc:
        if "inhomogeneous" in str(exc) or "sequence" in str(exc):
            raise ValueError(
                f"The {name!r} parameter of {func} must be a rectangular array. "
                f"Got ragged nested sequences instead."
            ) from None
        raise TypeError(
            f"The {name!r} parameter of {func} must be an array of finite real numbers. "
            f"Got non-numeric or complex data ({exc}) instead."
        ) from None
    if not np.all(np.isfinite(arr)):
        raise ValueError(
            f"The {name!r} parameter of {func} must contain only finite numbers. "
            f"Got {int(np.sum(~np.isfinite(arr)))} non-finite entries (NaN or inf)."
        )
    return arr


def protocol_object(value, registry: dict, methods: tuple[str, ...], *, name: str, func: str):
    """Resolve a name from ``registry`` or accept an object having every method in ``methods``."""
    accepted = (f"The {name!r} parameter of {func} must be one of {sorted(registry)} or an object with "
                f"{' and '.join(repr(m) for m in methods)} methods. Got {value!r} instead.")
    if isinstance(value, str):
        if value not in registry:
            raise ValueError(accepted)
        return registry[value]()
    if not all(callable(getattr(value, m, None)) for m in methods):
        raise TypeError(accepted)
    return value


def game_of(game, kind: type[_G], *, func: str, accepted: str | None = None) -> _G:
    """``game`` when it is a ``kind``; else the ``TypeError`` of every front door, naming what is accepted."""
    if not isinstance(game, kind):
        accepted = f"a rqe.{kind.__name__}" if accepted is None else accepted
        raise TypeError(f"The 'game' parameter of {func} must be {accepted}. Got {type(game).__name__} instead.")
    return game


def is_gaussian(game) -> bool:
    """``isinstance(game, rqe.GaussianGame)`` without importing the Gaussian game module.

    No ``GaussianGame`` can exist before ``rqe.games.gaussian`` is imported, so front doors that
    dispatch on it (``rqe.solve``, the CLI) need not load it, nor scipy.linalg, for other games.
    """
    module = sys.modules.get("rqe.games.gaussian")
    return module is not None and isinstance(game, module.GaussianGame)


def builtin_name(value, registry: dict) -> str | None:
    """The registry name of ``value`` when it names a built-in or is an exact built-in instance, else ``None``.

    Fast paths that know only the built-in risk measures and regularisers ask this; a subclass
    or any other protocol object is not built-in (it may override the closed forms).
    """
    if isinstance(value, str):
        return value if value in registry else None
    cls = registry.get(getattr(value, "name", None))
    return cls.name if cls is not None and type(value) is cls else None


def renamed(func: str, **renames: str) -> Callable[[_F], _F]:
    """Decorator: keep each renamed keyword ``old="new"`` of the public function ``func`` working for one release.

    A call with ``old=`` is passed on as ``new=`` with a ``DeprecationWarning``; a call with
    both raises a ``TypeError`` naming both.  The signature (``inspect.signature``) shows only
    the new names.
    """

    def decorate(function: _F) -> _F:
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            for old, new in renames.items():
                if old not in kwargs:
                    continue
                if new in kwargs:
                    raise TypeError(f"{func} got both {old!r} and its new name {new!r}; pass only {new!r} "
                                    f"({old!r} is deprecated).")
                warnings.warn(f"The {old!r} parameter of {func} is deprecated and will be removed in the next "
                              f"release; use {new!r}.", DeprecationWarning, stacklevel=2)
                kwargs[new] = kwargs.pop(old)
            return function(*args, **kwargs)

        return cast(_F, wrapper)

    return decorate
