"""Reading and writing games: Gambit's ``.nfg`` format and a JSON format.

Gambit ``.nfg`` (strategic game, https://gambitproject.readthedocs.io, "Game representation
formats") comes in two versions, both read here; :func:`write_nfg` writes the payoff version::

    NFG 1 R "Prisoner's dilemma" { "P1" "P2" } { { "C" "D" } { "C" "D" } }
    ""

    3 3 5 0 0 5 1 1

The prologue holds the title, the player names and either the action counts ``{ 2 2 }`` or
the action names, then an optional comment.  The payoff version lists, for every action
profile with player 1's action changing fastest, the payoffs of all players.  The outcome
version lists outcomes ``{ "name" u_1, u_2 }`` and then, for every profile in the same
order, the 1-based number of its outcome (0 for all payoffs zero).  Numbers may be
integers, decimals or rationals such as ``1/3``.

The JSON format is one object::

    {"name": "Prisoner's dilemma",              (optional)
     "description": "T=5 > R=3 > P=1 > S=0",   (optional)
     "players": ["P1", "P2"],
     "actions": [["C", "D"], ["C", "D"]],
     "payoffs": [[[3, 0], [5, 1]], [[3, 5], [0, 1]]]}

``payoffs`` has shape ``(N, n_1, ..., n_N)``: ``payoffs[i][a_1]...[a_N]`` is player ``i``'s
payoff, as in :class:`rqe.NormalFormGame`.  ``players`` and ``actions`` are optional on
reading (default names are used).

Examples
--------
>>> import rqe
>>> from rqe import io
>>> text = io.write_nfg(rqe.games.catalog.prisoners_dilemma(), title="PD")
>>> print(text)
NFG 1 R "PD" { "P1" "P2" } { { "C" "D" } { "C" "D" } }
""
<BLANKLINE>
3 3 5 0 0 5 1 1
<BLANKLINE>
>>> io.read_nfg(text) == rqe.games.catalog.prisoners_dilemma()
True
"""

from __future__ import annotations

import json
import math
import os
import re
from fractions import Fraction
from pathlib import Path

import numpy as np

from rqe._validation import game_of, has_text
from rqe.games.normal_form import NormalFormGame

__all__ = ["read_nfg", "write_nfg", "read_json", "write_json"]

_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|([{}])|([^\s{},"]+)|(,)|(\S)', re.S)
_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_RATIONAL = re.compile(r"[+-]?\d+/\d+")
_FEW_PROFILES = 10_000   # declared profiles allowed before the file's length is checked against them
_UNESCAPE = re.compile(r'\\([\\"])')   # inside quotes, \" is a quote and \\ a backslash (as Gambit writes)


class _Tokens:
    """Tokens of an ``.nfg`` text: quoted strings, braces and bare words (commas are separators)."""

    def __init__(self, text: str, source: str):
        self.items = []
        for match in _TOKEN.finditer(text):
            string, brace, word, _comma, other = match.groups()
            if other is not None:
                raise ValueError(f"{source}: unexpected character {other!r} at offset {match.start()}.")
            if string is not None:
                self.items.append(("str", _UNESCAPE.sub(r"\1", string)))
            elif brace is not None:
                self.items.append((brace, brace))
            elif word is not None:
                self.items.append(("word", word))
        self.pos = 0
        self.source = source

    def peek(self):
        return self.items[self.pos] if self.pos < len(self.items) else ("end", None)

    def take(self, kind: str, what: str):
        token = self.peek()
        if token[0] != kind:
            found = "the end of the file" if token[0] == "end" else repr(token[1])
            raise ValueError(f"{self.source}: expected {what}, found {found} (token {self.pos + 1}).")
        self.pos += 1
        return token[1]


def _number(word: str, source: str) -> float:
    """A payoff: an integer, a decimal (exponent allowed) or a rational ``p/q``, as a finite float."""
    try:
        if _DECIMAL.fullmatch(word):
            value = float(word)          # correctly rounded, like float(Fraction(word)), and never slow
        elif _RATIONAL.fullmatch(word):
            num, den = word.split("/")
            value = float(Fraction(int(num), int(den)))
        else:
            raise ValueError(word)
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"{source}: {_shorten(word)} is not a number (expected an integer, decimal or "
                         "p/q).") from None
    except OverflowError:
        value = math.inf
    if not math.isfinite(value):
        raise ValueError(f"{source}: the payoff {_shorten(word)} is too large for a float (at most about "
                         "1.8e308).")
    return value


def _shorten(word: str) -> str:
    return repr(word) if len(word) <= 40 else repr(word[:20] + "..." + word[-10:])


def _text_of(path_or_text) -> tuple[str, str]:
    """The text to parse and a name for it in error messages.

    A string is the text itself when it starts with ``NFG`` or contains a newline or a
    brace, and a file path otherwise.
    """
    if isinstance(path_or_text, str):
        if path_or_text.lstrip().startswith("NFG") or any(c in path_or_text for c in "\n{"):
            return path_or_text, "NFG text"
    elif not isinstance(path_or_text, os.PathLike):
        raise TypeError(f"The 'path_or_text' parameter of rqe.io.read_nfg must be a path or the text of an .nfg "
                        f"file. Got {type(path_or_text).__name__} instead.")
    path = Path(path_or_text)
    if not path.is_file():
        raise FileNotFoundError(f"rqe.io.read_nfg: no such file {str(path)!r} (and it is not .nfg text, "
                                "which starts with 'NFG').")
    return path.read_text(), str(path)


def read_nfg(path_or_text: str | os.PathLike) -> NormalFormGame:
    """Read a game in Gambit's ``.nfg`` format (payoff or outcome version).

    Parameters
    ----------
    path_or_text : str or path-like
        A file path, or the text itself (recognised by its leading ``NFG``).

    Returns
    -------
    NormalFormGame
        With the player and action names of the file (action names ``"1"``, ``"2"``, ...
        when the file gives only counts).

    Raises
    ------
    ValueError
        Naming the position and what was expected when the text is malformed.

    Examples
    --------
    >>> from rqe.io import read_nfg
    >>> g = read_nfg('NFG 1 R "MP" { "A" "B" } { 2 2 } 1 -1 -1 1 -1 1 1 -1')
    >>> g.players, g.payoffs[0].tolist()
    (('A', 'B'), [[1.0, -1.0], [-1.0, 1.0]])
    """
    text, source = _text_of(path_or_text)
    tokens = _Tokens(text, source)
    if tokens.take("word", "'NFG'") != "NFG":
        raise ValueError(f"{source}: an .nfg file starts with 'NFG'.")
    if tokens.take("word", "the version number 1") != "1":
        raise ValueError(f"{source}: only version 1 .nfg files exist.")
    if tokens.take("word", "'R' or 'D'") not in ("R", "D"):
        raise ValueError(f"{source}: the third token must be 'R' (or the obsolete 'D').")
    tokens.take("str", "the quoted game title")
    tokens.take("{", "'{' opening the player list")
    players = []
    while tokens.peek()[0] == "str":
        players.append(tokens.take("str", "a player name"))
    tokens.take("}", "'}' closing the player list")
    if len(players) < 2:
        raise ValueError(f"{source}: a game needs at least 2 players; the file names {len(players)}.")
    tokens.take("{", "'{' opening the strategy list")
    actions = []
    if tokens.peek()[0] == "{":
        for _ in players:
            tokens.take("{", "'{' opening a player's strategy names")
            names = []
            while tokens.peek()[0] == "str":
                names.append(tokens.take("str", "a strategy name"))
            tokens.take("}", "'}' closing a player's strategy names")
            actions.append(names)
    else:
        counts = []
        for _ in players:
            count = tokens.take("word", "a strategy count")
            if not count.isdigit() or int(count) < 1:
                raise ValueError(f"{source}: strategy counts must be positive integers. Got {_shorten(count)}.")
            counts.append(int(count))
        # Each profile needs at least one more token, so the counts are checked against the file's
        # length before any per-strategy object is made (a declared { 100000000 2 } costs nothing).
        if math.prod(counts) > max(len(tokens.items) - tokens.pos, _FEW_PROFILES):
            raise ValueError(f"{source}: the strategy counts {{ {' '.join(map(str, counts))} }} declare "
                             f"{math.prod(counts)} action profiles, but only {len(tokens.items) - tokens.pos} "
                             "tokens follow them; the file is truncated or the counts are wrong.")
        actions = [[str(k + 1) for k in range(c)] for c in counts]
    tokens.take("}", f"'}}' closing the strategy list of {len(players)} players")
    if tokens.peek()[0] == "str":
        tokens.take("str", "the comment")
    shape = tuple(len(a) for a in actions)
    n_profiles = int(np.prod(shape))
    if tokens.peek()[0] == "{":
        flat = _read_outcomes(tokens, len(players), n_profiles, source)
    else:
        values = []
        while tokens.peek()[0] == "word":
            values.append(_number(tokens.take("word", "a payoff"), source))
        if len(values) != n_profiles * len(players):
            raise ValueError(f"{source}: expected {n_profiles * len(players)} payoffs ({n_profiles} profiles x "
                             f"{len(players)} players). Got {len(values)}.")
        flat = np.array(values).reshape(n_profiles, len(players))
    if tokens.peek()[0] != "end":
        raise ValueError(f"{source}: unexpected {tokens.peek()[1]!r} after the payoffs (token {tokens.pos + 1}).")
    payoffs = flat.T.reshape((len(players), *shape[::-1]))
    payoffs = payoffs.transpose(0, *range(len(players), 0, -1))
    return NormalFormGame(payoffs, players=players, actions=actions)


def _read_outcomes(tokens: _Tokens, n_players: int, n_profiles: int, source: str) -> np.ndarray:
    tokens.take("{", "'{' opening the outcome list")
    outcomes = [np.zeros(n_players)]
    while tokens.peek()[0] == "{":
        tokens.take("{", "'{' opening an outcome")
        tokens.take("str", "the quoted outcome name")
        values = []
        while tokens.peek()[0] == "word":
            values.append(_number(tokens.take("word", "a payoff"), source))
        tokens.take("}", "'}' closing an outcome")
        if len(values) != n_players:
            raise ValueError(f"{source}: outcome {len(outcomes)} has {len(values)} payoffs; expected {n_players}.")
        outcomes.append(np.array(values))
    tokens.take("}", "'}' closing the outcome list")
    indices = []
    while tokens.peek()[0] == "word":
        word = tokens.take("word", "an outcome number")
        if not word.isdigit() or int(word) >= len(outcomes):
            raise ValueError(f"{source}: outcome numbers must be integers in [0, {len(outcomes) - 1}]. Got {word!r}.")
        indices.append(int(word))
    if len(indices) != n_profiles:
        raise ValueError(f"{source}: expected {n_profiles} outcome numbers (one per profile). Got {len(indices)}.")
    return np.array([outcomes[k] for k in indices])


def _format_number(v: float) -> str:
    """Shortest decimal that reads back to the same float, without an exponent."""
    return np.format_float_positional(float(v), unique=True, trim="-")


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_nfg(game: NormalFormGame, path: str | os.PathLike | None = None, *, title: str = "") -> str:
    """Write ``game`` in Gambit's ``.nfg`` payoff format; return the text (and save it when ``path`` is given).

    Payoffs are written exactly (shortest round-trip decimals), so :func:`read_nfg`
    gives back an equal game.

    Examples
    --------
    >>> import rqe
    >>> from rqe.io import write_nfg
    >>> print(write_nfg(rqe.games.catalog.matching_pennies()).splitlines()[-1])
    1 -1 -1 1 -1 1 1 -1
    """
    game_of(game, NormalFormGame, func="rqe.io.write_nfg")
    players = " ".join(_quote(p) for p in game.players)
    actions = " ".join("{ " + " ".join(_quote(a) for a in names) + " }" for names in game.actions)
    N = game.n_players
    by_profile = game.payoffs.transpose(0, *range(N, 0, -1)).reshape(N, -1).T
    body = " ".join(_format_number(v) for v in by_profile.ravel())
    text = f"NFG 1 R {_quote(title)} {{ {players} }} {{ {actions} }}\n\"\"\n\n{body}\n"
    if path is not None:
        Path(path).write_text(text)
    return text


def read_json(path: str | os.PathLike) -> NormalFormGame:
    """Read a game from the JSON format of the module docstring.

    The name and description, when present, are set as attributes ``name`` and
    ``description`` of the returned game.

    Raises
    ------
    ValueError
        Naming the key that is missing or malformed.

    Examples
    --------
    >>> import rqe, tempfile, os
    >>> from rqe.io import read_json, write_json
    >>> path = os.path.join(tempfile.mkdtemp(), "pd.json")
    >>> write_json(rqe.games.catalog.prisoners_dilemma(), path, name="PD")
    >>> g = read_json(path)
    >>> g.name, g.actions
    ('PD', (('C', 'D'), ('C', 'D')))
    """
    source = str(path)
    try:
        data = json.loads(Path(path).read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{source}: not valid JSON ({exc}).") from None
    except RecursionError:
        raise ValueError(f"{source}: the JSON is nested too deeply to be a game (payoffs have one level "
                         "per player, plus one).") from None
    if not isinstance(data, dict):
        raise ValueError(f"{source}: the top level must be an object with key 'payoffs'. Got {type(data).__name__}.")
    unknown = set(data) - {"name", "description", "players", "actions", "payoffs"}
    if unknown:
        raise ValueError(f"{source}: unknown key(s) {sorted(unknown)}; the keys are 'name', 'description', "
                         "'players', 'actions' and 'payoffs'.")
    if "payoffs" not in data:
        raise ValueError(f"{source}: missing key 'payoffs' (nested list of shape (N, n_1, ..., n_N)).")
    for key in ("name", "description"):
        if key in data and not isinstance(data[key], str):
            raise ValueError(f"{source}: {key!r} must be a string. Got {type(data[key]).__name__}.")
    if "players" in data and not (isinstance(data["players"], list) and all(isinstance(p, str) for p in data["players"])):
        raise ValueError(f"{source}: 'players' must be a list of strings.")
    if "actions" in data and not (isinstance(data["actions"], list)
                                  and all(isinstance(a, list) and all(isinstance(s, str) for s in a)
                                          for a in data["actions"])):
        raise ValueError(f"{source}: 'actions' must be a list of lists of strings, one list per player.")
    if has_text(data["payoffs"]):
        raise ValueError(f"{source}: 'payoffs' must hold numbers, not strings (write 1.5, not \"1.5\").")
    try:
        payoffs = np.array(data["payoffs"], dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{source}: 'payoffs' must be a rectangular nested list of numbers of shape "
                         "(N, n_1, ..., n_N).") from None
    if payoffs.ndim < 3 or payoffs.shape[0] != payoffs.ndim - 1:
        raise ValueError(f"{source}: 'payoffs' must have shape (N, n_1, ..., n_N) with one axis per player. "
                         f"Got shape {payoffs.shape}.")
    try:
        return NormalFormGame(payoffs, players=data.get("players"), actions=data.get("actions"),
                              name=data.get("name", Path(path).stem), description=data.get("description", ""))
    except ValueError as exc:
        raise ValueError(f"{source}: {exc}") from None


def write_json(game: NormalFormGame, path: str | os.PathLike, *, name: str | None = None,
               description: str | None = None) -> None:
    """Write ``game`` in the JSON format of the module docstring.

    ``name`` and ``description`` default to the game's attributes of that name, if any.
    """
    game_of(game, NormalFormGame, func="rqe.io.write_json")
    data = {}
    name = getattr(game, "name", None) if name is None else name
    description = getattr(game, "description", None) if description is None else description
    if name:
        data["name"] = str(name)
    if description:
        data["description"] = str(description)
    data.update(players=list(game.players), actions=[list(a) for a in game.actions], payoffs=game.payoffs.tolist())
    Path(path).write_text(json.dumps(data, indent=1) + "\n")
