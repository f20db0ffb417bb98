"""The rqe command: output, files and one-line errors with exit status 2."""

import json
import subprocess
import sys

import numpy as np
import pytest

import rqe
from rqe import io
from rqe.cli import main
from rqe.games import catalog


def test_solve_json_matches_the_library(capsys):
    assert main(["solve", "SC3", "--tau", "0.1,56", "--epsilon", "0.216,0.837", "--regularizer", "log_barrier",
                 "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    direct = rqe.solve(catalog.get("SC3"), tau=[0.1, 56], epsilon=[0.216, 0.837], regularizer="log_barrier")
    np.testing.assert_allclose(printed["strategies"][0], direct.strategies[0], rtol=0, atol=1e-15)
    assert printed["success"] is True


def test_solve_all_from_a_json_file(tmp_path, capsys):
    path = tmp_path / "game.json"
    io.write_json(catalog.free_riding_game(), path)
    assert main(["solve", str(path), "--tau", "0.5", "--epsilon", "0.2", "--all"]) == 0
    out = capsys.readouterr().out
    assert out.count("equilibrium ") == 3 and "P1: C=0.583696" in out


def test_solve_nfg_file(tmp_path, capsys):
    path = tmp_path / "pd.nfg"
    path.write_text(io.write_nfg(catalog.prisoners_dilemma()))
    assert main(["solve", str(path), "--tau", "0", "--epsilon", "1"]) == 0
    assert "success=True" in capsys.readouterr().out


def test_sweep_writes_csv_and_npz(tmp_path, capsys):
    csv, npz = tmp_path / "s.csv", tmp_path / "s.npz"
    assert main(["sweep", "free_riding_game", "--tau", "0:2:5", "--epsilon", "0.2,0.4", "--out", str(csv),
                 "--quiet"]) == 0
    import pandas as pd

    frame = pd.read_csv(csv)
    assert len(frame) == 10 and frame["success"].all()
    assert main(["sweep", "stag_hunt", "--tau", "0,1", "--out", str(npz), "--quiet"]) == 0
    assert len(rqe.SweepResult.load(npz)) == 2


def test_games_and_figure(tmp_path, capsys):
    assert main(["games"]) == 0
    listing = capsys.readouterr().out
    assert "free_riding_game" in listing and "SC12" in listing
    assert main(["figure", "1", "--quick", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "figure1.png").exists() and "tau* = 0.8287" in capsys.readouterr().out


@pytest.mark.parametrize("argv, words", [
    (["solve", "no_such_game"], "no game file or catalog game"),
    (["solve", "stag_hunt", "--tau", "-1"], "'tau' parameter of rqe.solve"),
    (["solve", "stag_hunt", "--tau", "0:1:3"], "not a range"),
    (["solve", "stag_hunt", "--epsilon", "abc"], "--epsilon must be a number"),
    (["solve", "two_robots", "--tau", "5", "--epsilon", "1"], "tau"),
    (["sweep", "stag_hunt", "--tau", "0:1:0", "--out", "x.csv"], "count >= 1"),
    (["sweep", "stag_hunt", "--tau", "0:1:3", "--out", "x.txt"], "--out must end in .csv or .npz"),
])
def test_user_errors_are_one_line_with_status_2(argv, words, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1 and "Traceback" not in err


def test_bad_json_file(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text('{"payoffs": [[1, 2], [3]]}')
    assert main(["solve", str(path)]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_console_entry_point_runs_as_a_process():
    done = subprocess.run([sys.executable, "-m", "rqe.cli", "solve", "nothing"], capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.startswith("rqe solve: error:")


def test_output_into_a_closed_pipe_is_not_an_error(monkeypatch, capsys):
    import rqe.cli as cli

    def closed_pipe(args):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(cli, "_cmd_games", closed_pipe)
    assert cli.main(["games"]) == 0
    assert capsys.readouterr().err == ""
