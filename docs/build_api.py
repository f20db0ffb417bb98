"""Generate ``docs/api.md``, the API reference, from the public names and their docstrings.

Run ``python docs/build_api.py`` from the repository root after changing a public signature
or the first paragraph of a public docstring; ``tests/test_docs.py`` fails while the
committed ``docs/api.md`` differs from what this script generates.

The public names are those of ``rqe.__all__``, ``rqe.analysis.__all__`` (with the
``rqe.analysis.symbolic`` submodule), ``rqe.games.catalog.__all__``,
``rqe.games.markov_catalog.__all__``, ``rqe.io.__all__``, ``rqe.learning.__all__``,
``rqe.plotting.__all__`` and the other sections listed in ``SECTIONS``; for each the page shows
the call signature (without type annotations, which are strings under ``from __future__ import
annotations``) and the first paragraph of the docstring.  Classes also list their public methods
and properties.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from pathlib import Path

OUTPUT = Path(__file__).resolve().parent / "api.md"

# (section title, module, names or None for the module's __all__ minus submodules, intro)
SECTIONS = (
    ("rqe", "rqe", None, "Solvers, game classes, result types, warnings, risk measures and regularisers."),
    ("rqe.analysis", "rqe.analysis", None, "Analyses built on the solvers."),
    ("rqe.analysis.symbolic", "rqe.analysis.symbolic", None, "Example 2 derived with sympy."),
    ("rqe.games.catalog", "rqe.games.catalog", None, "Classic games, the paper's examples, experimental games."),
    ("rqe.markov", "rqe.markov", None, "Policies of Markov games: evaluation, best responses, rollouts, sweeps."),
    ("rqe.uncertainty", "rqe.uncertainty", None, "Environment risk over next states (Markov games)."),
    ("rqe.games.markov_catalog", "rqe.games.markov_catalog", None,
     "Markov games: the MPS grid world, a two-agent cliff walk, a volunteer corridor, random games."),
    ("rqe.cooperative", "rqe.cooperative", None,
     "Distributionally robust cooperation (DrIGM): robust team values, IGM checks, factorisations."),
    ("rqe.io", "rqe.io", None, "Reading and writing games (JSON, Gambit `.nfg`)."),
    ("rqe.learning", "rqe.learning", None, "Exact SRPO/IPPO populations, cross-play, mirror-descent dynamics."),
    ("rqe.plotting", "rqe.plotting", None, "Figures (matplotlib); every function returns its Axes."),
    ("rqe.interop", "rqe.interop", None,
     "Bridges to OpenSpiel (a stage solver for its multi-agent Q-learning); sgamesolver through rqe.MarkovGame."),
)


def public_names(module_name: str) -> list[str]:
    """The documented names of a module: its ``__all__`` without submodules, sorted."""
    module = importlib.import_module(module_name)
    names = []
    for name in module.__all__:
        if inspect.ismodule(getattr(module, name)):
            continue
        names.append(name)
    return sorted(names, key=str.lower)


def public_objects():
    """Yield ``(qualified name, object)`` for every documented public name, in page order."""
    for _, module_name, _, _ in SECTIONS:
        module = importlib.import_module(module_name)
        for name in public_names(module_name):
            yield f"{module_name}.{name}", getattr(module, name)


def _strip_annotations(sig: inspect.Signature) -> inspect.Signature:
    params = [p.replace(annotation=inspect.Parameter.empty) for p in sig.parameters.values()]
    return sig.replace(parameters=params, return_annotation=inspect.Signature.empty)


def signature(obj) -> str:
    """Call signature without annotations, or ``""`` when there is none."""
    if inspect.isclass(obj) and issubclass(obj, BaseException):
        return ""  # built-in exception signatures differ between Python versions
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return ""
    return str(_strip_annotations(sig))


def summary(obj) -> str:
    """First paragraph of the docstring, joined into one line (``""`` when undocumented)."""
    doc = inspect.getdoc(obj) or ""
    para = doc.strip().split("\n\n")[0]
    return " ".join(line.strip() for line in para.splitlines()).strip()


def _members(cls):
    """Public methods and properties defined on ``cls`` itself (not dataclass-generated ones)."""
    out = []
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(value, (staticmethod, classmethod)):
            out.append((name, getattr(cls, name), "method"))
        elif isinstance(value, property) or type(value).__name__ == "cached_property":
            out.append((name, value, "property"))
        elif inspect.isfunction(value):
            out.append((name, value, "method"))
    return sorted(out, key=lambda t: t[0])


def _kind(obj) -> str:
    if inspect.isclass(obj):
        return "class"
    if callable(obj):
        return "function"
    return "data"


def render() -> str:
    """The full text of ``docs/api.md``."""
    lines = [
        "# API reference",
        "",
        "<!-- Generated by docs/build_api.py from the docstrings; do not edit by hand. -->",
        "<!-- Regenerate with: python docs/build_api.py  (tests/test_docs.py checks it is current) -->",
        "",
        "Every public name with its signature and the first paragraph of its docstring. The full",
        "docstrings (parameters, returns, examples) are available with `help(name)`. Parameters",
        "after `*` are keyword-only. See [concepts](concepts.md) for the mathematics and the",
        "[how-to pages](index.md) for worked tasks.",
        "",
        "Sections: " + " · ".join(f"[`{title}`](#{title.replace('.', '')})" for title, *_ in SECTIONS),
        "",
    ]
    for title, module_name, _, intro in SECTIONS:
        lines += [f"## {title}", "", intro, ""]
        module = importlib.import_module(module_name)
        for name in public_names(module_name):
            obj = getattr(module, name)
            kind = _kind(obj)
            sig = signature(obj) if kind != "data" else ""
            lines.append(f"### `{title}.{name}{sig}`")
            lines.append("")
            text = summary(obj) or "(no docstring)"
            lines.append(f"*{kind}.* {text}")
            lines.append("")
            if kind == "class":
                for mname, member, mkind in _members(obj):
                    target = member.fget if isinstance(member, property) else (
                        member.func if type(member).__name__ == "cached_property" else member)
                    msig = signature(target) if mkind == "method" else ""
                    if mkind == "method" and msig.startswith("(self, "):
                        msig = "(" + msig[len("(self, "):]
                    elif mkind == "method" and msig == "(self)":
                        msig = "()"
                    text = summary(target)
                    lines.append(f"- `{name}.{mname}{msig}` ({mkind}){': ' + text if text else ''}")
                if _members(obj):
                    lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def main(argv=None) -> int:
    OUTPUT.write_text(render())
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
