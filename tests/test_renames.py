"""Renamed keywords and attributes (issue 14): a grid is ``taus``/``epsilons``, a span ``tau_span``.

The old names keep working for one release with a ``DeprecationWarning`` and give the same
answer; passing an old and a new name together raises a ``TypeError`` naming both.
"""

import numpy as np
import pytest

import rqe
from rqe.games import catalog

GRID = np.linspace(0.0, 2.0, 5)

# (function, game factory, old keywords, new keywords)
CASES = [
    ("rqe.sweep", lambda: rqe.sweep, catalog.stag_hunt,
     {"tau": GRID, "epsilon": [0.3, 0.6], "progress": False}, {"taus": GRID, "epsilons": [0.3, 0.6], "progress": False}),
    ("rqe.markov.sweep", lambda: rqe.markov.sweep, lambda: rqe.MarkovGame.from_normal_form(catalog.stag_hunt(), horizon=2),
     {"tau": [0.0, 1.0], "epsilon": 0.5, "progress": False}, {"taus": [0.0, 1.0], "epsilons": 0.5, "progress": False}),
    ("rqe.rqe_path", lambda: rqe.rqe_path, catalog.stag_hunt,
     {"tau": (0.0, 1.0), "epsilon": 0.5}, {"tau_span": (0.0, 1.0), "epsilon": 0.5}),
    ("rqe.analysis.free_riding", lambda: rqe.analysis.free_riding, catalog.free_riding_game,
     {"tau": GRID, "epsilon": 0.2}, {"taus": GRID, "epsilon": 0.2}),
    ("rqe.analysis.collaboration", lambda: rqe.analysis.collaboration, catalog.two_robots,
     {"tau": np.linspace(0.0, 1.5, 4), "epsilon": 1.0}, {"taus": np.linspace(0.0, 1.5, 4), "epsilon": 1.0}),
    ("rqe.analysis.cce_collapse", lambda: rqe.analysis.cce_collapse, catalog.stag_hunt,
     {"tau": [4.0], "epsilon": 0.5, "risk": "reverse_kl", "resolution": 3},
     {"taus": [4.0], "epsilons": 0.5, "risk": "reverse_kl", "resolution": 3}),
]
IDS = [c[0] for c in CASES]


def _answer(res):
    """The numbers of a result, whatever its type (strategies, policies' payoffs, shared reward...)."""
    for name in ("strategies", "shared_reward", "max_delta", "spread"):
        if hasattr(res, name):
            value = getattr(res, name)
            return [np.asarray(v) for v in value] if isinstance(value, tuple) else [np.asarray(value)]
    return [np.asarray(res.payoffs)]


@pytest.mark.parametrize(("name", "func", "game", "old", "new"), CASES, ids=IDS)
def test_old_keyword_warns_and_gives_the_same_answer(name, func, game, old, new):
    g = game()
    expected = func()(g, **new)
    renamed = [k for k in old if k not in new]
    with pytest.warns(DeprecationWarning) as record:
        got = func()(g, **old)
    messages = [str(w.message) for w in record]
    for key in renamed:
        assert any(f"'{key}' parameter of {name} is deprecated" in m for m in messages), messages
    for a, b in zip(_answer(got), _answer(expected), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(("name", "func", "game", "old", "new"), CASES, ids=IDS)
def test_old_and_new_keyword_together_raise(name, func, game, old, new):
    renamed = [k for k in old if k not in new][0]
    with pytest.raises(TypeError, match=f"{name} got both '{renamed}' and its new name"):
        func()(game(), **new, **{renamed: old[renamed]})


def test_signatures_show_only_the_new_names():
    import inspect

    for _, func, _, old, new in CASES:
        params = inspect.signature(func()).parameters
        assert set(new) - {"progress", "risk", "resolution"} <= set(params)
        assert not ({k for k in old if k not in new} & set(params))


def test_deprecated_result_attributes():
    fr = rqe.analysis.free_riding(catalog.free_riding_game(), taus=GRID, epsilon=0.2)
    col = rqe.analysis.collaboration(catalog.two_robots(), taus=np.linspace(0.0, 1.5, 4), epsilon=1.0)
    cc = rqe.analysis.cce_collapse(catalog.stag_hunt(), taus=[4.0], epsilons=[0.5], risk="reverse_kl", resolution=3)
    for res, old, new in [(fr, "tau", "taus"), (col, "tau", "taus"), (cc, "tau", "taus"), (cc, "epsilon", "epsilons")]:
        with pytest.warns(DeprecationWarning, match=f"{type(res).__name__}.{old} is deprecated"):
            value = getattr(res, old)
        np.testing.assert_array_equal(value, getattr(res, new))
    np.testing.assert_array_equal(fr.taus, GRID)
