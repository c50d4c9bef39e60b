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
    """Every stored model (Model, TransientModel) has access rules; abstract ones have no records to guard."""
    files = [*(MODULE / "models").glob("*.py"), *(MODULE / "wizard").glob("*.py")]
    source = "\n".join(p.read_text() for p in files)
    pattern = r'^class \w+\(models\.(?:Model|TransientModel)\):\n(?:    .*\n|\n)*?    _name = "([^"]+)"'
    # `_name = "x"` then `_inherit = ["x", <mixins>]` extends x: no new model
    pattern += r'\n(?!    _inherit = \["\1")'
    stored = re.findall(pattern, source, re.M)
    declared = {"model_" + name.replace(".", "_") for name in stored}
    assert "model_asterisk_plus_number_wizard" in declared and "model_asterisk_plus_call" in declared
    assert "model_asterisk_plus_lookup" not in declared  # an AbstractModel
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


def _functions(path: Path) -> dict[str, ast.FunctionDef]:
    return {
        node.name: node for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.FunctionDef)
    }


def _calls(node: ast.AST) -> set[str]:
    return {n.func.id for n in ast.walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}


def test_every_button_method_checks_the_admin_group_first() -> None:
    """A button hidden from a group is still a public method anyone may call over RPC."""
    checked = 0
    for name in (
        "models/server.py",
        "models/conf.py",
        "models/ban.py",
        "wizard/ban_wizard.py",
        "models/server_phonebook.py",
    ):
        for method, node in _functions(MODULE / name).items():
            if method.startswith("action_"):
                body = node.body[1:] if ast.get_docstring(node) else node.body
                first = body[0]
                assert "require_admin" in _calls(first), f"{name} {method}"
                checked += 1
    assert checked >= 12


def test_the_admin_buttons_carry_the_admin_group() -> None:
    form = ElementTree.parse(MODULE / "views" / "server_views.xml").getroot().find(".//form")
    conf = ElementTree.parse(MODULE / "views" / "conf_views.xml").getroot()
    bans = ElementTree.parse(MODULE / "views" / "ban_views.xml").getroot().find(".//record[@id='ban_list']")
    buttons = form.findall(".//button") + conf.findall(".//button") + bans.findall(".//button")
    assert len(buttons) >= 12
    for button in buttons:
        assert button.get("groups") == "asterisk_plus.group_admin", button.attrib


def test_the_system_account_is_read_only_and_the_bus_url_for_admins_in_the_server_form() -> None:
    form = ElementTree.parse(MODULE / "views" / "server_views.xml").getroot().find(".//form")
    assert form.find(".//field[@name='user_id']").get("readonly") == "1"
    banner = form.find("./div[@role='alert']")
    assert banner.get("invisible") == "not default_password_in_use"
    source = (MODULE / "models" / "server.py").read_text()
    redis_url = source[source.index("redis_url = fields.Char(") :].split("\n    )", 1)[0]
    assert 'groups="asterisk_plus.group_admin"' in redis_url
