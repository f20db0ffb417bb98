"""Strict front doors: options that do not apply to a call raise, naming the parameter.

A public function calls one of these checks at its top, so that an option it would otherwise
ignore (``rqe.solve(gaussian_game, method="homotopy")``) is an error, not a silent no-op.
``METHODS`` is the method registry: for each public solver family, where its tuple of valid
``method`` names lives (read lazily, so this module imports no solver).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from rqe._validation import plain

METHODS: dict[str, tuple[str, str]] = {
    "rqe.solve": ("rqe.solvers.rqe", "METHODS"),
    "rqe.solve_qre": ("rqe.solvers.rqe", "METHODS"),
    "rqe.solve_nash": ("rqe.solvers.nash", "METHODS"),
    "rqe.learning.mirror_descent": ("rqe.learning._mirror", "METHODS"),
}
"""Solver family -> (module, name of its tuple of valid ``method`` values)."""


def methods(func: str) -> tuple[str, ...]:
    """The valid ``method`` values of the public function ``func`` (a key of :data:`METHODS`).

    Examples
    --------
    >>> from rqe._frontdoor import methods
    >>> methods("rqe.solve")
    ('auto', 'newton', 'fixed_point', 'homotopy')
    """
    module, name = METHODS[func]
    return tuple(getattr(import_module(module), name))


def _is_default(value: Any, default: Any) -> bool:
    if value is default:
        return True
    if isinstance(default, (str, bool, int, float)) and type(value) is type(default):
        return bool(value == default)
    return False


def reject_options(func: str, why: str, **options: tuple[Any, Any]) -> None:
    """Raise ``TypeError`` naming every option given a value other than its default.

    ``options`` maps a parameter name to ``(value, default)``; ``why`` completes the sentence
    "... does not apply ...".

    Examples
    --------
    >>> from rqe._frontdoor import reject_options
    >>> reject_options("rqe.solve", "to a GaussianGame", x0=(None, None))
    >>> reject_options("rqe.solve", "to a GaussianGame", method=("newton", "auto"))
    Traceback (most recent call last):
    ...
    TypeError: The 'method' parameter of rqe.solve does not apply to a GaussianGame. Got 'newton' instead of the default 'auto'.
    """
    bad = [(name, value, default) for name, (value, default) in options.items() if not _is_default(value, default)]
    if not bad:
        return
    if len(bad) == 1:
        name, value, default = bad[0]
        raise TypeError(f"The {name!r} parameter of {func} does not apply {why}. "
                        f"Got {_show(value)} instead of the default {default!r}.")
    names = ", ".join(repr(name) for name, _, _ in bad)
    got = ", ".join(f"{name}={_show(value)}" for name, value, _ in bad)
    raise TypeError(f"The {names} parameters of {func} do not apply {why}. Got {got}; leave them at their defaults.")


def _show(value: Any) -> str:
    text = repr(plain(value))
    return text if len(text) <= 60 else text[:57] + "..."


def gaussian_options(func: str, *, risk: Any, regularizer: Any, method: str, x0: Any,
                     check_tractability: bool, max_time: float | None) -> None:
    """Reject the matrix-game options of ``func`` when it is given a :class:`rqe.GaussianGame`.

    A Gaussian game is solved in closed form with the KL risk and the (differential) entropy
    regulariser (:func:`rqe.solvers.gaussian.solve_gaussian`): ``risk``, ``regularizer``,
    ``method``, ``x0``, ``check_tractability`` and ``max_time`` must keep their defaults
    (``risk="kl"`` or a ``KL()`` object, ``regularizer="entropy"`` or an ``Entropy()`` object).

    Examples
    --------
    >>> import rqe
    >>> rqe.solve(rqe.games.catalog.two_robots(), tau=0.5, epsilon=0.5, method="homotopy")
    Traceback (most recent call last):
    ...
    TypeError: The 'method' parameter of rqe.solve does not apply to a GaussianGame (solved in closed form with the KL risk and the entropy regulariser). Got 'homotopy' instead of the default 'auto'.
    """
    reject_options(
        func, "to a GaussianGame (solved in closed form with the KL risk and the entropy regulariser)",
        risk=("kl" if getattr(risk, "name", None) == "kl" else risk, "kl"),
        regularizer=("entropy" if getattr(regularizer, "name", None) == "entropy" else regularizer, "entropy"),
        method=(method, "auto"), x0=(x0, None), check_tractability=(check_tractability, False),
        max_time=(max_time, None))
