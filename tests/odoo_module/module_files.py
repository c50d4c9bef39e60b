"""The module's plain-Python files, loaded without Odoo (they import nothing of it)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

MODULE = Path(__file__).resolve().parents[2] / "odoo_addons" / "asterisk_plus"


def load(name: str, path: Path | None = None) -> ModuleType:
    """`name`.py of the module (or the file at `path`), as module `asterisk_plus_<name>`."""
    spec = importlib.util.spec_from_file_location(f"asterisk_plus_{name}", path or MODULE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
