"""What CI can check of the Odoo module without an Odoo: files, XML, the contract's method names.

The module's own tests (odoo_addons/asterisk_plus/tests) run inside a real Odoo with --test-enable."""

from __future__ import annotations

import ast
import csv
import re
from pathlib import Path
from xml.etree import ElementTree

MODULE = Path(__file__).resolve().parents[2] / "odoo_addons" / "asterisk_plus"


def manifest() -> dict:
    return ast.literal_eval((MODULE / "__manifest__.py").read_text())


def test_every_data_file_exists_and_parses() -> None:
    for name in manifest()["data"]:
        path = MODULE / name
        assert path.exists(), name
        if name.endswith(".xml"):
            ElementTree.parse(path)


def test_access_rules_name_existing_models() -> None:
    source = "\n".join(p.read_text() for p in (MODULE / "models").glob("*.py"))
    declared = {
        "model_" + name.replace(".", "_") for name in re.findall(r'^\s+_name = "([^"]+)"', source, re.M)
    }
    with (MODULE / "security" / "ir.model.access.csv").open() as handle:
        used = {row["model_id:id"] for row in csv.DictReader(handle)}
    assert used <= declared and declared <= used  # every model has rules, every rule a model


def test_the_bridge_contract_methods_exist() -> None:
    source = "\n".join(p.read_text() for p in (MODULE / "models").glob("*.py"))
    from services.odoo_bridge.bridge import TO_ODOO_ROUTES

    for _model, method in TO_ODOO_ROUTES.values():
        assert f"def {method}(" in source, method
    for method in ("bridge_get_config", "bridge_ping", "bridge_get_files", "on_ami_events"):
        assert f"def {method}(" in source, method


def test_the_system_account_is_created_without_update() -> None:
    root = ElementTree.parse(MODULE / "data" / "system_account.xml").getroot()
    assert root.get("noupdate") == "1"
