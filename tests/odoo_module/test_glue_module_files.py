"""What CI can check of the glue modules (asterisk_plus_crm, asterisk_plus_helpdesk) without an Odoo: the
manifest, the data files it lists, access rules for every model, the model and test files imported, views
that Odoo 17 and 18 both load, the readme fragments.

Their own tests (odoo_addons/<module>/tests) run inside a real Odoo with --test-enable."""

from __future__ import annotations

import ast
import csv
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest

ADDONS = Path(__file__).resolve().parents[2] / "odoo_addons"
GLUE = sorted(p.name for p in ADDONS.glob("asterisk_plus_*") if (p / "__manifest__.py").exists())
DEPENDS = {
    "asterisk_plus_crm": {"crm", "asterisk_plus"},
    "asterisk_plus_helpdesk": {"helpdesk_mgmt", "asterisk_plus"},
}
LICENSES = {"asterisk_plus_crm": "LGPL-3", "asterisk_plus_helpdesk": "AGPL-3"}


def manifest(module: str) -> dict:
    return ast.literal_eval((ADDONS / module / "__manifest__.py").read_text())


def test_the_glue_modules_are_there() -> None:
    assert "asterisk_plus_crm" in GLUE


@pytest.mark.parametrize("module", GLUE)
def test_the_manifest_depends_on_both_sides_and_keeps_their_license(module: str) -> None:
    found = manifest(module)
    assert set(found["depends"]) == DEPENDS[module]
    assert found["license"] == LICENSES[module]
    assert found["installable"] is True
    assert found.get("auto_install", False) is False  # installed on purpose, not by the two sides alone


@pytest.mark.parametrize("module", GLUE)
def test_every_data_file_exists_parses_and_every_xml_file_is_listed(module: str) -> None:
    listed = manifest(module)["data"]
    for name in listed:
        path = ADDONS / module / name
        assert path.exists(), name
        if name.endswith(".xml"):
            ElementTree.parse(path)
    on_disk = {str(p.relative_to(ADDONS / module)) for p in (ADDONS / module).glob("*/*.xml")}
    assert on_disk - {n for n in on_disk if n.startswith("static/")} <= set(listed)


def _stored_models(module: str) -> set[str]:
    source = "\n".join(p.read_text() for p in (ADDONS / module).glob("*/*.py"))
    pattern = r'^class \w+\(models\.(?:Model|TransientModel)\):\n(?:    .*\n|\n)*?    _name = "([^"]+)"'
    # `_name = "x"` then `_inherit = ["x", <mixins>]` extends x: no new model
    pattern += r'\n(?!    _inherit = \["\1")'
    return set(re.findall(pattern, source, re.M))


@pytest.mark.parametrize("module", GLUE)
def test_every_new_model_has_access_rules_and_every_rule_a_model(module: str) -> None:
    declared = {"model_" + name.replace(".", "_") for name in _stored_models(module)}
    csv_path = ADDONS / module / "security" / "ir.model.access.csv"
    used: set[str] = set()
    if csv_path.exists():
        assert "security/ir.model.access.csv" in manifest(module)["data"]
        with csv_path.open() as handle:
            used = {row["model_id:id"] for row in csv.DictReader(handle)}
    assert used == declared


@pytest.mark.parametrize("module", GLUE)
def test_every_model_and_test_file_is_imported(module: str) -> None:
    for folder in ("models", "tests"):
        init = (ADDONS / module / folder / "__init__.py").read_text()
        imported = set(re.findall(r"\b(\w+)\b", init.split("import", 1)[1]))
        files = {p.stem for p in (ADDONS / module / folder).glob("*.py") if p.stem != "__init__"}
        if folder == "tests":
            files = {name for name in files if name.startswith("test_")}
        assert files <= imported, (folder, files - imported)


@pytest.mark.parametrize("module", GLUE)
def test_views_load_in_odoo_17_and_18_alike(module: str) -> None:
    """asterisk_plus turns its own `<list>` and `<chatter/>` into Odoo 17's forms as they load (compat.py);
    a glue module has no such step: its views inherit and use neither."""
    for path in (ADDONS / module / "views").glob("*.xml"):
        text = path.read_text()
        assert not re.search(r"<(list|tree|chatter)[\s/>]", text), path.name
        assert "view_mode" not in text, path.name  # `list` (18) or `tree` (17): actions come from Python


@pytest.mark.parametrize("module", GLUE)
def test_the_readme_fragments_are_there(module: str) -> None:
    for name in ("DESCRIPTION.md", "CONFIGURE.md", "USAGE.md"):
        assert (ADDONS / module / "readme" / name).read_text().strip(), name


@pytest.mark.parametrize("module", GLUE)
def test_the_modules_python_methods_called_by_its_views_exist(module: str) -> None:
    # The module's own, or asterisk_plus's (the Call button and the calls list come from its callable mixin).
    files = [
        *(ADDONS / module / "models").glob("*.py"),
        ADDONS / "asterisk_plus" / "models" / "callable_mixin.py",
    ]
    source = "\n".join(p.read_text() for p in files)
    for path in (ADDONS / module / "views").glob("*.xml"):
        for button in ElementTree.parse(path).getroot().iter("button"):
            if button.get("type") == "object":
                assert f"def {button.get('name')}(" in source, (path.name, button.get("name"))


@pytest.mark.parametrize("module", GLUE)
def test_the_translation_template_names_the_module(module: str) -> None:
    pot = (ADDONS / module / "i18n" / f"{module}.pot").read_text()
    assert f"#. module: {module}" in pot
