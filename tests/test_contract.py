"""The result contract (docs/results.md), immutable games and strict front doors."""

import dataclasses
import json
import pickle
import re
import warnings

import numpy as np
import pytest

import rqe

RESULT_CLASSES = [
    "rqe.solvers._result.EquilibriumResult", "rqe.solvers._result.EquilibriumSet", "rqe.solvers._result.Path",
    "rqe.solvers.response.BestResponseResult",
    "rqe.solvers.nash.NashEquilibrium", "rqe.solvers._selection.NashSet", "rqe.solvers._selection.NashSelection",
    "rqe.solvers._selection.NashComponent", "rqe.solvers.gaussian.GaussianResult", "rqe.solvers.markov.MarkovResult",
    "rqe.solvers.correlated.CorrelatedResult", "rqe.solvers.correlated.PlayerAdversaryCCE",
    "rqe.markov.BestResponse", "rqe.markov.Rollouts", "rqe.markov.MarkovSweep", "rqe.analysis._sweep.SweepResult",
    "rqe.analysis._collapse.CollapseResult", "rqe.analysis._collaboration.CollaborationResult",
    "rqe.solvers._tractability.Tractability", "rqe.analysis._free_riding.FreeRidingResult",
    "rqe.analysis.fitting.FitResult", "rqe.analysis.fitting.LikelihoodRatioTest",
    "rqe.cooperative.TeamValues", "rqe.cooperative.IGMCheck", "rqe.cooperative.Factorization",
    "rqe.learning._srpo.LearningResult", "rqe.learning._mirror.DynamicsResult",
    "rqe.learning._cross_play.CrossPlayResult",
]


def _load(path):
    module, name = path.rsplit(".", 1)
    return getattr(__import__(module, fromlist=[name]), name)


@pytest.mark.parametrize("path", RESULT_CLASSES)
def test_every_result_is_a_frozen_result(path):
    cls = _load(path)
    assert issubclass(cls, rqe.Result) and dataclasses.is_dataclass(cls)
    assert cls.__dataclass_params__.frozen
    names = [f.name for f in dataclasses.fields(cls)]
    if "message" in names:
        assert names[0] == "message", names
    for old in ("max_regret", "expected_utilities"):
        assert old not in names


SETS = ("rqe.solvers._result.EquilibriumSet", "rqe.solvers._selection.NashSet")
"""A set's ``success`` is a property (it holds an equilibrium); its elements carry the status."""


@pytest.mark.parametrize("path", [p for p in RESULT_CLASSES if p not in SETS])
def test_a_result_that_can_fail_says_how(path):
    # success comes with message (first) and a status; verdicts (holds, identified...) need neither.
    names = [f.name for f in dataclasses.fields(_load(path))]
    if "success" in names:
        assert names[:2] == ["message", "success"] and "status" in names, names
        assert _load(path).__dataclass_fields__["success"].type in ("bool", bool), path
        assert "method" in names or path in NAMED_OTHERWISE, names


NAMED_OTHERWISE = ("rqe.solvers._selection.NashSelection", "rqe.analysis.fitting.FitResult")
"""Their ``criterion`` and ``model`` say how the answer was reached (one name per concept)."""


def test_status_is_shared_and_serialises_as_an_int():
    res = rqe.solve(rqe.games.catalog.matching_pennies(), tau=0.5, epsilon=0.5)
    assert res.status is rqe.Status.SUCCESS and res.status == 0 and repr(res.status) == "0"
    data = json.loads(json.dumps(res.to_dict()))
    assert data["status"] == 0 and type(data["status"]) is int
    assert [s.value for s in rqe.Status] == [0, 1, 2, 3, 4, 5, 6]


def test_deprecated_names_warn_and_return_the_new_field():
    eq = rqe.solve_nash(rqe.games.catalog.battle_of_the_sexes())[0]
    with pytest.warns(DeprecationWarning, match="use NashEquilibrium.regret"):
        assert eq.max_regret == eq.regret
    g = rqe.solve(rqe.games.catalog.two_robots(), tau=0.5, epsilon=0.5)
    with pytest.warns(DeprecationWarning, match="use GaussianResult.payoffs"):
        np.testing.assert_array_equal(g.expected_utilities, g.payoffs)
    s = rqe.sweep(rqe.games.catalog.stag_hunt(), taus=[0.0, 1.0], progress=False)
    with pytest.warns(DeprecationWarning, match="use SweepResult.finished"):
        assert s.complete is s.finished is True


def test_a_set_holds_one_element_type():
    nash = rqe.solve_nash(rqe.games.catalog.stag_hunt())
    rqe_eq = rqe.solve(rqe.games.catalog.stag_hunt(), tau=0.5, epsilon=0.5)
    with pytest.raises(TypeError, match="one type"):
        rqe.EquilibriumSet(message="", complete=False, equilibria=(nash[0], rqe_eq))
    assert nash.success and not rqe.EquilibriumSet(message="", complete=False, equilibria=()).success


def test_games_are_immutable_and_carry_metadata(tmp_path):
    game = rqe.NormalFormGame([[[1, 0], [0, 1]], [[0, 1], [1, 0]]], name="pennies", description="a test")
    for attr, value in (("name", "other"), ("payoffs", None), ("anything", 1)):
        with pytest.raises(AttributeError, match="immutable"):
            setattr(game, attr, value)
    with pytest.raises(ValueError):
        game.payoffs[0, 0, 0] = 5.0
    copy = pickle.loads(pickle.dumps(game))
    assert copy == game and (copy.name, copy.description) == ("pennies", "a test")
    with pytest.raises(AttributeError):
        rqe.games.catalog.two_robots().label = "x"
    with pytest.raises(AttributeError):
        rqe.MarkovGame.from_normal_form(game).label = "x"
    with pytest.raises(TypeError, match="'name' parameter"):
        rqe.NormalFormGame(game.payoffs, name=3)
    path = tmp_path / "g.json"
    rqe.io.write_json(game, path)
    back = rqe.io.read_json(path)
    assert (back.name, back.description) == ("pennies", "a test") and back == game


@pytest.mark.parametrize("option", [{"method": "homotopy"}, {"risk": "reverse_kl"}, {"x0": [0.5, 0.5]},
                                    {"regularizer": "log_barrier"}, {"max_time": 1.0}])
def test_gaussian_front_door_rejects_matrix_options(option):
    name = next(iter(option))
    with pytest.raises(TypeError, match=f"The '{name}' parameter of rqe.solve does not apply to a GaussianGame"):
        rqe.solve(rqe.games.catalog.two_robots(), tau=0.5, epsilon=0.5, **option)
    ok = rqe.solve(rqe.games.catalog.two_robots(), tau=0.5, epsilon=0.5, risk=rqe.KL(), regularizer="entropy")
    assert ok.success


def test_method_registry_lists_the_valid_methods():
    from rqe._frontdoor import METHODS, methods

    for func in METHODS:
        assert methods(func) and all(isinstance(m, str) for m in methods(func))
    with pytest.raises(ValueError, match=re.escape(str(list(methods("rqe.solve_nash"))))):
        rqe.solve_nash(rqe.games.catalog.stag_hunt(), method="simplex")


def test_check_tractability_is_never_silent():
    game = rqe.games.catalog.stag_hunt()
    with pytest.warns(rqe.TractabilityWarning, match="No payoff-independent condition is known for risk='kl'"):
        rqe.solve(game, tau=0.5, epsilon=0.2, check_tractability=True)
    # KL with the log barrier: 16 eps_1 eps_2 tau_1 tau_2 = 16 > 1 (docs/concepts.md), so it holds and is quiet.
    with warnings.catch_warnings():
        warnings.simplefilter("error", rqe.TractabilityWarning)
        rqe.solve(game, tau=2.0, epsilon=0.5, regularizer="log_barrier", check_tractability=True)
