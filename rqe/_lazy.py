"""Lazy attribute loading for packages (PEP 562): names are imported on first use."""

from __future__ import annotations

from importlib import import_module


def attach(package: str, names: dict[str, str], submodules: set[str]):
    """Return ``(__getattr__, __dir__, __all__)`` for ``package``.

    ``names`` maps each public name to the module defining it; ``submodules`` are loaded as
    ``package.<name>``.  A loaded value is cached in the package's namespace.
    """
    public = sorted([*names, *submodules])

    def __getattr__(name):
        if name in names:
            value = getattr(import_module(names[name]), name)
        elif name in submodules:
            value = import_module(f"{package}.{name}")
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        setattr(import_module(package), name, value)
        return value

    def __dir__():
        return public

    return __getattr__, __dir__, public
