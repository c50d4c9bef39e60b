"""The module's plain-Python files, loaded without Odoo (they import nothing of it)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

MODULE = Path(__file__).resolve().parents[2] / "odoo_addons" / "asterisk_plus"


def load(name: str, path: Path | None = None) -> ModuleType:
    """`name`.py of the module (or the file at `path`), as module `asterisk_plus_<name>`."""
    spec = importlib.util.spec_from_file_location(f"asterisk_plus_{name}", path or MODULE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_bus_client(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The module's bus_client.py as it is, with Odoo's one import stood in for.

    It is loaded inside a package of the module's folder without its __init__ (that imports Odoo's models),
    so its relative import of compat.py (plain Python) resolves."""
    odoo, exceptions = ModuleType("odoo"), ModuleType("odoo.exceptions")
    exceptions.UserError = type("UserError", (Exception,), {})  # type: ignore[attr-defined]
    odoo.exceptions = exceptions  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "odoo", odoo)
    monkeypatch.setitem(sys.modules, "odoo.exceptions", exceptions)
    package = ModuleType("asterisk_plus_lone")
    package.__path__ = [str(MODULE)]
    monkeypatch.setitem(sys.modules, "asterisk_plus_lone", package)
    spec = importlib.util.spec_from_file_location("asterisk_plus_lone.bus_client", MODULE / "bus_client.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "asterisk_plus_lone.bus_client", module)
    spec.loader.exec_module(module)
    return module
