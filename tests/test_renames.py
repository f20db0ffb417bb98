"""Renamed keywords and attributes (issue 14): a grid is ``taus``/``epsilons``, a span ``tau_span``.

The old names keep working for one release with a ``DeprecationWarning`` and give the same
answer; passing an old and a new name together raises a ``TypeError`` naming both.
"""

import dataclasses

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
    names = {f.name for f in dataclasses.fields(res)}          # fields only: no deprecated alias
    for name in ("strategies", "shared_reward", "max_delta", "spread"):
        if name in names:
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


# Result fields renamed to the vocabulary of docs/results.md: (factory, old name, new name)
def _team():
    from rqe.cooperative import qtran_game, robust_team_values
    from rqe.uncertainty import TVBall

    return robust_team_values(qtran_game(), env_risk=TVBall(0.2))


def _igm():
    from rqe.cooperative import fit_igm

    return fit_igm(_team())


def _best_response():
    game = rqe.MarkovGame.from_normal_form(catalog.stag_hunt(), horizon=2)
    stag = np.zeros((2, 1, 2))
    stag[..., 0] = 1.0
    return rqe.markov.best_response(game, [stag, stag], 1, tau=0.5, epsilon=0.5)


def _free_riding():
    return rqe.analysis.free_riding(catalog.free_riding_game(), taus=GRID, epsilon=0.2)


RENAMED_FIELDS = [
    (_igm, "value", "values"),
    (_best_response, "value", "payoff"),
    (_free_riding, "shared_reward", "reward"),
]


@pytest.mark.parametrize(("make", "old", "new"), RENAMED_FIELDS, ids=[f"{c[1]}->{c[2]}" for c in RENAMED_FIELDS])
def test_renamed_result_fields_warn_and_give_the_same_object(make, old, new):
    res = make()
    with pytest.warns(DeprecationWarning, match=rf"{type(res).__name__}\.{old} is deprecated.*use "
                                                rf"{type(res).__name__}\.{new}\."):
        value = getattr(res, old)
    assert value is getattr(res, new)
    assert old not in {f.name for f in dataclasses.fields(res)}


def test_team_values_payoff_is_the_team_value_of_every_agent():
    """``TeamValues.payoff`` (a float) became ``payoffs``, one entry per agent, all the team value."""
    res = _team()
    with pytest.warns(DeprecationWarning, match=r"TeamValues\.payoff is deprecated.*use TeamValues\.payoffs\[0\]"):
        value = res.payoff
    assert isinstance(value, float) and res.payoffs.shape == (2,)
    assert np.all(res.payoffs == value)
    # the robust team value: the robust action value of the robust team-optimal joint action
    assert value == res.q[res.joint_action]


def test_gaussian_game_expected_utilities_is_a_deprecated_alias():
    game = rqe.games.catalog.two_robots()
    with pytest.warns(DeprecationWarning, match="use GaussianGame.expected_payoffs"):
        old = game.expected_utilities([1.0, 0.5], [0.3, 0.2])
    np.testing.assert_array_equal(old, game.expected_payoffs([1.0, 0.5], [0.3, 0.2]))


def test_nash_selection_value_is_a_deprecated_alias():
    sel = rqe.solve_nash(catalog.battle_of_the_sexes()).select("welfare")
    with pytest.warns(DeprecationWarning, match="use NashSelection.criterion_value"):
        assert sel.value == sel.criterion_value == 5.0
