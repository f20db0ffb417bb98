"""The rqe command: output, files and one-line errors with exit status 2."""

import argparse
import json
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

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
    assert len(re.findall(r"^equilibrium \d of 3$", out, re.M)) == 3 and "P1: C=0.583696" in out
    assert "complete=True" in out


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
    assert len(frame) == 10 and frame["converged"].all()
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
    (["sweep", "stag_hunt", "--tau", "0:1:1000000000", "--out", "x.csv"], "at most 1000000"),  # was MemoryError
    (["sweep", "stag_hunt", "--tau", "0:1:1000", "--epsilon", "0.1:1:10000", "--out", "x.csv"], "10000000 points"),
    (["sweep", "stag_hunt", "--tau", "0:1:3", "--out", "/no/such/dir/x.csv"], "does not exist"),
    (["solve", "two_robots", "--risk", "kl"], "--risk does not apply"),
    (["solve", "two_robots", "--all"], "--all does not apply"),
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


# ---------------------------------------------------------------- issue 16.4: options, outputs, Ctrl-C
ROOT = Path(__file__).resolve().parents[1]


def test_version_and_help_for_every_option(capsys):
    from rqe.cli import _parser

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.strip() == f"rqe {rqe.__version__}"
    parser = _parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, sub in commands.choices.items():
        for action in sub._actions:
            assert action.help, f"rqe {name}: {action.dest} has no help text"


def test_output_is_checked_before_computing(tmp_path, monkeypatch, capsys):
    def no_sweep(*args, **kwargs):
        raise AssertionError("rqe.sweep ran although the output cannot be written")

    monkeypatch.setattr(rqe, "sweep", no_sweep)
    assert main(["sweep", "stag_hunt", "--tau", "0:1:3", "--out", str(tmp_path)]) == 2
    assert "must end in" in capsys.readouterr().err
    (tmp_path / "dir.csv").mkdir()
    assert main(["sweep", "stag_hunt", "--tau", "0:1:3", "--out", str(tmp_path / "dir.csv")]) == 2
    assert "is a directory" in capsys.readouterr().err
    assert main(["sweep", "stag_hunt", "--tau", "0:1:3", "--out", str(tmp_path / "no" / "x.npz")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "file").write_text("")
    assert main(["figure", "1", "--quick", "--out", str(tmp_path / "file")]) == 2
    assert "not a directory" in capsys.readouterr().err


def test_readme_sweep_writes_csv_without_pandas(tmp_path, monkeypatch, capsys):
    import csv

    monkeypatch.setitem(sys.modules, "pandas", None)   # before: failed after the sweep for want of pandas
    out = tmp_path / "result.csv"
    assert main(["sweep", "free_riding_game", "--tau", "0:5:11", "--out", str(out), "--quiet"]) == 0
    with open(out, newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 11 and all(r["converged"] == "True" for r in rows)
    direct = rqe.sweep(catalog.free_riding_game(), taus=np.linspace(0, 5, 11), epsilons=0.1, progress=False)
    assert [float(r["p_P1_C"]) for r in rows] == direct.strategies[0][:, 0].tolist()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]   # no temporary file left


def test_solve_all_reports_complete_in_text_and_json(capsys):
    assert main(["solve", "rock_paper_scissors", "--all"]) == 0
    text = capsys.readouterr().out   # before: "equilibrium 1 of 1" for a search that is not exhaustive
    assert "complete=False" in text and "not exhaustive" in text
    assert main(["solve", "rock_paper_scissors", "--all", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["complete"] is False and len(printed["equilibria"]) >= 1
    assert main(["solve", "free_riding_game", "--tau", "0.5", "--epsilon", "0.2", "--all", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["complete"] is True and len(printed["equilibria"]) == 3


def test_gaussian_result_is_formatted(capsys):
    assert main(["solve", "two_robots", "--tau", "0.5", "--epsilon", "1"]) == 0
    out = capsys.readouterr().out    # before: the raw GaussianResult(...) repr
    direct = rqe.solve(catalog.two_robots(), tau=0.5, epsilon=1.0)
    assert "GaussianResult" not in out and f"mean=[{direct.means[0][0]:.6f}]" in out and "success=True" in out


@pytest.mark.parametrize("name, text", [
    ("big.nfg", 'NFG 1 R "t" { "A" "B" } { 1 1 } 1e400 2'),
    ("huge.nfg", 'NFG 1 R "t" { "A" "B" } { 100000000 2 } 1 2'),
    ("deep.json", '{"payoffs": ' + "[" * 50_000 + "]" * 50_000 + "}"),
])
def test_hostile_game_files_give_one_line(tmp_path, capsys, name, text):
    path = tmp_path / name
    path.write_text(text)
    assert main(["solve", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_ctrl_c_policy():
    from rqe.cli import _CtrlC

    handler = _CtrlC()
    with pytest.raises(KeyboardInterrupt):
        handler(signal.SIGINT, None)      # the first stops the sweep
    assert handler(signal.SIGINT, None) is None   # the second is ignored while results are saved
    with pytest.raises(KeyboardInterrupt):
        handler(signal.SIGINT, None)      # the third abandons them


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_two_ctrl_c_during_a_sweep_keep_the_computed_points(tmp_path):
    out = tmp_path / "x.csv"
    proc = subprocess.Popen([sys.executable, "-m", "rqe.cli", "sweep", "free_riding_game", "--tau", "0:5:200000",
                             "--out", str(out)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    chunks, ready = [], threading.Event()

    def read():      # sets `ready` once the bar shows 20 points done, or when stderr ends (no clock involved)
        for char in iter(lambda: proc.stderr.read(1), ""):
            chunks.append(char)
            if char in "\r\n":                 # tqdm redraws its bar after each carriage return
                done = re.findall(r"\| *(\d+)/200000", "".join(chunks[-200:]))
                if done and int(done[-1]) >= 20:
                    ready.set()
        ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    ready.wait()
    if proc.poll() is not None:
        pytest.fail(f"the sweep ended before it was interrupted: {''.join(chunks)[-500:]}")
    proc.send_signal(signal.SIGINT)
    time.sleep(0.005)
    proc.send_signal(signal.SIGINT)
    stdout = proc.communicate(timeout=600)[0]      # a guard against a hung process only
    reader.join(timeout=10)
    stderr = "".join(chunks)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "(interrupted: incomplete)" in stdout
    rows = out.read_text().splitlines()
    assert len(rows) - 1 >= 20     # before: the file was never written
