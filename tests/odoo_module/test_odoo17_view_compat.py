"""The Odoo 17 shim (odoo_addons/asterisk_plus/compat.py) turns the module's Odoo 18 views into 17 ones.

compat.py imports nothing from Odoo: it is loaded from its file (the package's __init__ would import Odoo)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from xml.etree import ElementTree

import pytest

MODULE = Path(__file__).resolve().parents[2] / "odoo_addons" / "asterisk_plus"


def load_compat():
    spec = importlib.util.spec_from_file_location("asterisk_plus_compat", MODULE / "compat.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


compat = load_compat()

FORM_WITH_LINES = """<form>
    <sheet>
        <field name="condition_ids">
            <list editable="bottom"><field name="header"/><field name="list_price"/></list>
        </field>
        <field name="playlist"/>
        <listing/>
    </sheet>
</form>"""


def test_a_list_arch_becomes_a_tree_arch_and_keeps_everything_else() -> None:
    body = '\n  <header><button name="x" type="object"/></header>\n  <field name="a"/>\n'
    converted = compat.arch_for_17(f'<list create="false">{body}</list>')
    assert converted == f'<tree create="false">{body}</tree>'
    assert ElementTree.fromstring(converted).tag == "tree"


def test_nested_lists_convert_but_field_names_and_other_tags_do_not() -> None:
    root = ElementTree.fromstring(compat.arch_for_17(FORM_WITH_LINES))
    assert [e.tag for e in root.iter()] == [
        "form", "sheet", "field", "tree", "field", "field", "field", "listing"
    ]  # fmt: skip
    assert [e.get("name") for e in root.iter("field")] == [
        "condition_ids",
        "header",
        "list_price",
        "playlist",
    ]


@pytest.mark.parametrize("arch", ["<list/>", "<list />", "<list\n  string='x'></list>"])
def test_every_way_of_writing_the_tag_converts(arch: str) -> None:
    assert ElementTree.fromstring(compat.arch_for_17(arch)).tag == "tree"


def test_an_arch_without_list_is_unchanged() -> None:
    arch = '<form><field name="list"/><div class="o_list">list</div></form>'
    assert compat.arch_for_17(arch) == arch
    assert compat.arch_for_17(False) is False


def test_view_modes() -> None:
    assert compat.view_mode_for_17("list,form") == "tree,form"
    assert compat.view_mode_for_17("list") == "tree"
    assert compat.view_mode_for_17("form") == "form"
    assert compat.view_mode_for_17("kanban,list,form") == "kanban,tree,form"


def test_create_and_write_values_are_copied_with_the_translation() -> None:
    values = {"name": "x.list", "arch": "<list/>", "model": "x"}
    out = compat.view_values_for_17(values)
    assert out == {"name": "x.list", "arch": "<tree/>", "model": "x"}
    assert values["arch"] == "<list/>"  # the caller's dict is left alone
    assert compat.view_values_for_17({"arch_db": "<list/>", "type": "list"}) == {
        "arch_db": "<tree/>",
        "type": "tree",
    }
    assert compat.action_values_for_17({"view_mode": "list,form", "name": "a"}) == {
        "view_mode": "tree,form",
        "name": "a",
    }
    assert compat.action_values_for_17({"name": "a"}) == {"name": "a"}


def test_a_cron_runs_for_ever_unless_its_values_say_otherwise() -> None:
    assert compat.cron_values_for_17({"name": "c"}) == {"name": "c", "numbercall": -1}
    assert compat.cron_values_for_17({"numbercall": 3}) == {"numbercall": 3}


def test_each_model_that_inherits_the_17_mixin_has_its_translation() -> None:
    inheriting = set()
    for path in (MODULE / "models").glob("ir_*.py"):
        text = path.read_text()
        if '"asterisk_plus.compat17"' in text:
            inheriting.add(text.split('_name = "', 1)[1].split('"', 1)[0])
    assert inheriting == set(compat.VALUES_FOR_17) == {"ir.ui.view", "ir.actions.act_window", "ir.cron"}


def test_every_list_view_of_the_module_converts_to_a_valid_tree_view() -> None:
    """What Odoo 17 gets from each of the module's view records: it parses, has `tree`s and no `list`."""
    seen = 0
    for path in sorted((MODULE / "views").glob("*.xml")):
        for record in ElementTree.parse(path).getroot().iter("record"):
            if record.get("model") != "ir.ui.view":
                continue
            arch_field = next(f for f in record.iter("field") if f.get("name") == "arch")
            for child in arch_field:
                text = compat.arch_for_17(ElementTree.tostring(child, encoding="unicode"))
                tags = {e.tag for e in ElementTree.fromstring(text).iter()}
                assert "list" not in tags, (path.name, record.get("id"))
                seen += "tree" in tags
    assert seen >= 6


def test_the_chatter_of_odoo_18_becomes_the_one_of_odoo_17() -> None:
    arch = '<form><sheet><field name="name"/></sheet><chatter/></form>'
    root = ElementTree.fromstring(compat.arch_for_17(arch))
    [chatter] = [e for e in root.iter("div") if e.get("class") == "oe_chatter"]
    assert [f.get("name") for f in chatter.iter("field")] == ["message_follower_ids", "message_ids"]
    assert compat.arch_for_17("<form><chatter /></form>").count("oe_chatter") == 1
    assert "chatter" not in {e.tag for e in root.iter()}
