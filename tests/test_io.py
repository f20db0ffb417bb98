"""Tests of rqe.io: Gambit .nfg (payoff and outcome versions) and the JSON game format."""

from __future__ import annotations

import json

import numpy as np
import pytest

import rqe
from rqe.games import catalog
from rqe.io import read_json, read_nfg, write_json, write_nfg

# The sample game of Gambit's documentation ("Selten (IJGT, 75), Figure 2"), in both versions.
SELTEN_PAYOFF_VERSION = """NFG 1 R "Selten (IJGT, 75), Figure 2, normal form"
{ "Player 1" "Player 2" } { 3 2 }
""

1 1 0 2 0 2 1 1 0 3 2 0
"""
SELTEN_OUTCOME_VERSION = """NFG 1 R "Selten (IJGT, 75), Figure 2, normal form" { "Player 1" "Player 2" }

{
{ "1" "2" "3" }
{ "1" "2" }
}

{
{ "" 1, 1 }
{ "" 0, 2 }
{ "" 0, 2 }
{ "" 1, 1 }
{ "" 0, 3 }
{ "" 2, 0 }
}
1 2 3 4 5 6
"""
# Read off the listing by hand: profiles in the order (1,1), (2,1), (3,1), (1,2), (2,2), (3,2).
SELTEN_R1 = [[1, 1], [0, 0], [0, 2]]
SELTEN_R2 = [[1, 1], [2, 3], [2, 0]]


def random_game(seed, shape):
    rng = np.random.default_rng(seed)
    return rqe.NormalFormGame(rng.normal(size=(len(shape), *shape)) / 3,
                              players=[f"pl {k}" for k in range(len(shape))],
                              actions=[[f'a"{j}' for j in range(n)] for n in shape])


@pytest.mark.parametrize("text", [SELTEN_PAYOFF_VERSION, SELTEN_OUTCOME_VERSION])
def test_read_gambit_sample(text):
    game = read_nfg(text)
    assert game == rqe.NormalFormGame.from_bimatrix(SELTEN_R1, SELTEN_R2)
    assert game.players == ("Player 1", "Player 2")
    assert game.actions == (("1", "2", "3"), ("1", "2"))


def test_null_outcome_and_rationals():
    text = 'NFG 1 R "" { "A" "B" } { 2 1 } "" { { "o" 1/3, -2.5 } } 1 0'
    game = read_nfg(text)
    np.testing.assert_array_equal(game.payoffs[:, :, 0], [[1 / 3, 0], [-2.5, 0]])


@pytest.mark.parametrize("seed,shape", [(0, (2, 3)), (1, (3, 2, 4)), (2, (2, 2, 2, 2))])
def test_nfg_round_trip(seed, shape, tmp_path):
    game = random_game(seed, shape)
    path = tmp_path / "g.nfg"
    text = write_nfg(game, path, title='a "title"')
    assert path.read_text() == text
    for source in (text, path, str(path)):
        back = read_nfg(source)
        assert back == game
        assert back.players == game.players and back.actions == game.actions


def test_nfg_written_file_is_read_by_pygambit(tmp_path):
    gbt = pytest.importorskip("pygambit")
    game = random_game(3, (2, 3))
    path = tmp_path / "g.nfg"
    write_nfg(game, path)
    theirs = gbt.read_nfg(str(path))
    if hasattr(theirs, "get_strategies"):          # pygambit 17: players and strategies are labels
        players = list(theirs.players)
        strategies = [list(theirs.get_strategies(p)) for p in players]
    else:
        players = [p.label for p in theirs.players]
        strategies = [[s.label for s in p.strategies] for p in theirs.players]
    assert players == list(game.players)
    assert strategies == [list(a) for a in game.actions]
    for i in range(game.n_players):
        np.testing.assert_allclose(np.array(theirs.to_arrays()[i], dtype=float), game.payoffs[i], atol=1e-15)


def test_nfg_solves_the_same():
    game = catalog.battle_of_the_sexes()
    a = rqe.solve_nash(game, exact=True)
    b = rqe.solve_nash(read_nfg(write_nfg(game)), exact=True)
    assert [eq.exact for eq in a] == [eq.exact for eq in b]


@pytest.mark.parametrize("text,match", [
    ("EFG 2 R {", "starts with 'NFG'"),
    ("NFG 2 R", "version"),
    ("NFG 1 X", "'R'"),
    ('NFG 1 R "t" { "A" } { 2 }', "at least 2 players"),
    ('NFG 1 R "t" { "A" "B" } { 2 0 }', "positive integers"),
    ('NFG 1 R "t" { "A" "B" } { 2 2 } 1 2 3', "expected 8 payoffs"),
    ('NFG 1 R "t" { "A" "B" } { 1 1 } 1 x', "'x' is not a number"),
    ('NFG 1 R "t" { "A" "B" } { 1 1 } 1 1/0', "not a number"),
    ('NFG 1 R "t" { "A" "B" } { 1 1 } { { "" 1 } } 1', "has 1 payoffs; expected 2"),
    ('NFG 1 R "t" { "A" "B" } { 1 1 } { { "" 1 2 } } 2', r"integers in \[0, 1\]"),
    ('NFG 1 R "t" { "A" "B" } { 2 1 } { { "" 1 2 } } 1', "expected 2 outcome numbers"),
    ('NFG 1 R "t" { "A" "B" } { 1 1 } 1 2 }', "unexpected '}'"),
    ('NFG 1 R "t" { "A" "B" } { 1 1 ', "the end of the file"),
    ('NFG 1 R "t" { "A" "B" } { 1 1 } 1 2 "', "unexpected character '\"'"),
])
def test_bad_nfg_raises(text, match):
    with pytest.raises(ValueError, match=match):
        read_nfg(text)


def test_missing_nfg_file_and_bad_types(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_nfg(tmp_path / "absent.nfg")
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_nfg(str(tmp_path / "absent.nfg"))
    with pytest.raises(TypeError, match="'path_or_text' parameter"):
        read_nfg(3)
    with pytest.raises(TypeError, match="'game' parameter of rqe.io.write_nfg"):
        write_nfg([[1]])
    with pytest.raises(TypeError, match="'game' parameter of rqe.io.write_json"):
        write_json([[1]], tmp_path / "x.json")


# --------------------------------------------------------------------------- JSON
@pytest.mark.parametrize("seed,shape", [(0, (2, 3)), (1, (2, 2, 3))])
def test_json_round_trip(seed, shape, tmp_path):
    game = random_game(seed, shape)
    path = tmp_path / "g.json"
    write_json(game, path, name="random", description="seeded")
    back = read_json(path)
    assert back == game and back.players == game.players and back.actions == game.actions
    assert (back.name, back.description) == ("random", "seeded")
    data = json.loads(path.read_text())
    assert np.shape(data["payoffs"]) == (len(shape), *shape)


def test_json_minimal_file_uses_default_names(tmp_path):
    path = tmp_path / "mp.json"
    path.write_text(json.dumps({"payoffs": [[[1, -1], [-1, 1]], [[-1, 1], [1, -1]]]}))
    game = read_json(path)
    assert game == catalog.matching_pennies() and game.players == ("P1", "P2") and game.name == "mp"


GOOD = {"players": ["A", "B"], "actions": [["x", "y"], ["z"]], "payoffs": [[[1], [2]], [[3], [4]]]}


@pytest.mark.parametrize("content,match", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "top level must be an object"),
    (json.dumps({"players": ["A", "B"]}), "missing key 'payoffs'"),
    (json.dumps({**GOOD, "colour": 1}), r"unknown key\(s\) \['colour'\]"),
    (json.dumps({**GOOD, "name": 3}), "'name' must be a string"),
    (json.dumps({**GOOD, "players": "AB"}), "'players' must be a list of strings"),
    (json.dumps({**GOOD, "actions": ["x", "y"]}), "'actions' must be a list of lists"),
    (json.dumps({**GOOD, "payoffs": [[[1], [2]], [[3]]]}), "rectangular nested list"),
    (json.dumps({**GOOD, "payoffs": [[1, 2], [3, 4]]}), r"shape \(N, n_1, ..., n_N\)"),
    (json.dumps({**GOOD, "players": ["A", "B", "C"]}), "'players' parameter.*2 names"),
    (json.dumps({**GOOD, "payoffs": [[["a"], [2]], [[3], [4]]]}), "numbers, not strings"),
    ('{"payoffs": [[[NaN], [2]], [[3], [4]]]}', "finite"),
])
def test_bad_json_raises(content, match, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=match):
        read_json(path)


# --------------------------------------------------------------------------- hostile files (issue 18)
@pytest.mark.parametrize("word", ["1e400", "-1e400", "1" + "0" * 400, "1e100000000"])
def test_nfg_payoff_beyond_float_range_is_a_clear_error(word):
    # before: OverflowError (a traceback from `rqe solve`); 1e100000000 also took minutes via Fraction
    with pytest.raises(ValueError, match="too large for a float"):
        read_nfg(f'NFG 1 R "t" {{ "A" "B" }} {{ 1 1 }} {word} 2')


def test_nfg_huge_declared_counts_are_refused_before_allocating():
    import tracemalloc

    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="declare 200000000 action profiles"):
            read_nfg('NFG 1 R "t" { "A" "B" } { 100000000 2 } 1 2 3 4')   # before: 3.8 GB of names
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000


def test_names_with_backslashes_round_trip():
    game = rqe.NormalFormGame.from_bimatrix([[1, 2], [3, 4]], [[5, 6], [7, 8]], players=["c\\", 'q"\\'],
                                            actions=[["x\\y", "\\"], ["\\\\", '"']])
    text = write_nfg(game, title="t\\")
    assert '"c\\\\"' in text   # a backslash is written as \\ (as Gambit writes it)
    back = read_nfg(text)      # before: "expected '}'" (the closing quote was read as escaped)
    assert back == game and back.players == game.players and back.actions == game.actions
    # A backslash before any other character stays literal, as in Gambit's reader.
    assert read_nfg('NFG 1 R "" { "a\\b" "B" } { 1 1 } 1 2').players == ("a\\b", "B")


def test_deeply_nested_json_is_a_clear_error(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text('{"payoffs": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(ValueError, match="nested too deeply"):   # before: RecursionError
        read_json(path)
