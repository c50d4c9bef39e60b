"""The image installs the project as a package (`pip install .`): it must carry what the services read,
and nothing of the tests' stand-ins."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_carries_every_service_and_the_console_page_but_no_test_peer(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "-q",
            "-w",
            str(tmp_path),
        ],
        check=True,
        cwd=tmp_path,
    )
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    services = sorted(p.parent.name for p in (ROOT / "services").glob("*/__main__.py"))
    assert {"ami_gateway", "odoo_bridge", "conf_sync", "console", "guard"} <= set(services)
    missing = [s for s in services if f"services/{s}/__main__.py" not in names]
    assert missing == []
    assert {f"services/console/static/{f}" for f in ("index.html", "console.js", "console.css")} <= names
    assert "services/bus/health.py" in names
    assert [n for n in names if not n.startswith(("services/", "pbx_agent-"))] == []
