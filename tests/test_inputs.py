"""Strict inputs (issue 16.5): numbers given as text are refused, messages show plain numbers."""

import json

import numpy as np
import pytest

import rqe
from rqe.games import catalog

GAME = catalog.stag_hunt()


@pytest.mark.parametrize("call, name", [
    (lambda: rqe.solve(GAME, tau="1"), "'tau' parameter of rqe.solve"),             # before: accepted as 1.0
    (lambda: rqe.solve(GAME, epsilon=["0.1", 0.2]), "'epsilon' parameter of rqe.solve"),
    (lambda: rqe.solve_qre(GAME, lam="2"), "'lam' parameter of rqe.solve_qre"),
    (lambda: rqe.sweep(GAME, taus=["0", "1"], progress=False), "'taus' parameter of rqe.sweep"),
    (lambda: rqe.NormalFormGame.from_bimatrix([["1", 2], [3, 4]], [[1, 2], [3, 4]]), "'R1' parameter"),
    (lambda: rqe.NormalFormGame(np.array([[["1"]], [["2"]]])), "'payoffs' parameter"),
    (lambda: rqe.fit(GAME, [["22", 78], [53, 47]]), "'data' parameter of rqe.fit"),
])
def test_numbers_as_text_are_refused_naming_the_parameter(call, name):
    with pytest.raises(TypeError, match=name):
        call()


def test_json_payoffs_as_text_are_refused(tmp_path):
    path = tmp_path / "g.json"
    path.write_text(json.dumps({"payoffs": [[["1"], ["2"]], [["3"], ["4"]]]}))
    with pytest.raises(ValueError, match="numbers, not strings"):
        rqe.io.read_json(path)


@pytest.mark.parametrize("call, shown", [
    (lambda: rqe.solve(GAME, tau=np.float64(-1.0)), "Got -1.0 instead"),          # before: np.float64(-1.0)
    (lambda: rqe.solve(GAME, max_iter=np.int64(0)), "Got 0 instead"),
    (lambda: rqe.solve(GAME, tol=np.float64(-1e-3)), "Got -0.001 instead"),
    (lambda: rqe.sweep(GAME, taus=np.array([-1.0, 1.0]), progress=False), "Got min -1.0 instead"),
    (lambda: rqe.fit(GAME, [[22, 78], [53, 47]], n_starts=np.int64(0)), "Got 0 instead"),
    (lambda: catalog.free_riding_game(cost=np.float64("inf")), "Got inf instead"),
])
def test_messages_show_plain_numbers(call, shown):
    with pytest.raises(ValueError) as info:
        call()
    assert shown in str(info.value) and "np." not in str(info.value)
