"""The module in the shape the Odoo Community Association's modules have (as connector-telephony's do): one
model per file, a search view for each list, one field per line, every message translatable, a valid .pot,
the icon, the readme fragments and the licence. Checked on the files, without an Odoo."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from types import SimpleNamespace
from xml.etree import ElementTree

from .module_files import MODULE, load
from .test_module_files import manifest

MODEL_BASES = {"Model", "TransientModel", "AbstractModel"}
ERRORS = {"UserError", "ValidationError", "AccessError", "MissingError", "RedirectWarning"}


def _python_files() -> list[Path]:
    return sorted([*MODULE.glob("*.py"), *MODULE.glob("models/*.py"), *MODULE.glob("wizard/*.py")])


def _view_files() -> list[Path]:
    return sorted([*MODULE.glob("views/*.xml"), *MODULE.glob("wizard/*.xml")])


def _model_classes(path: Path) -> list[ast.ClassDef]:
    """Classes deriving from models.Model / TransientModel / AbstractModel, at any depth (an `if` too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ClassDef):
            for base in node.bases:
                if isinstance(base, ast.Attribute) and base.attr in MODEL_BASES:
                    found.append(node)
    return found


def _model_name(cls: ast.ClassDef) -> str:
    """The class's `_name`, else its single `_inherit`."""
    values = {}
    for stmt in cls.body:
        if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name):
            if isinstance(stmt.value, ast.Constant):
                values[stmt.targets[0].id] = stmt.value.value
    return values.get("_name") or values.get("_inherit") or ""


def test_each_models_file_holds_one_model() -> None:
    seen: dict[str, Path] = {}
    files = sorted(MODULE.glob("models/*.py"))
    assert len(files) > 25
    for path in files:
        if path.name == "__init__.py":
            continue
        classes = _model_classes(path)
        assert len(classes) == 1, f"{path.name}: {[c.name for c in classes]}"
        name = _model_name(classes[0])
        assert name, path.name
        # A model the module defines (`_name`) is defined in one file; extensions of it may be several.
        if any(isinstance(s, ast.Assign) and ast.unparse(s.targets[0]) == "_name" for s in classes[0].body):
            assert name not in seen, f"{name} in {seen.get(name)} and {path.name}"
            seen[name] = path
    for split in ("access_list", "processed_event", "call_leg", "event_map_condition", "pbx_user_channel"):
        assert (MODULE / "models" / f"{split}.py").exists(), split


def _views() -> list[tuple[Path, ElementTree.Element]]:
    """(file, record) of every ir.ui.view record in the module's view files."""
    found = []
    for path in _view_files():
        for record in ElementTree.parse(path).getroot().iter("record"):
            if record.get("model") == "ir.ui.view":
                found.append((path, record))
    return found


def _root_of(record: ElementTree.Element) -> tuple[str, str]:
    model = record.find("field[@name='model']")
    arch = record.find("field[@name='arch']")
    if (
        model is None
        or arch is None
        or len(arch) == 0
        or record.find("field[@name='inherit_id']") is not None
    ):
        return "", ""
    return model.text or "", arch[0].tag


def test_every_list_view_has_a_search_view() -> None:
    lists, searches = set(), set()
    for _path, record in _views():
        model, tag = _root_of(record)
        (lists if tag == "list" else searches if tag == "search" else set()).add(model)
    assert {"asterisk_plus.ban", "asterisk_plus.conf", "asterisk_plus.server"} <= lists
    assert lists - searches == set()


def test_views_put_one_field_per_line() -> None:
    for path in _view_files():
        for number, line in enumerate(path.read_text().splitlines(), 1):
            assert line.count("<field ") <= 1, f"{path.name}:{number}: {line.strip()}"


def test_the_ban_list_shows_the_computed_state_and_searches_by_it() -> None:
    root = ElementTree.parse(MODULE / "views" / "ban_views.xml").getroot()
    ban_list = root.find(".//record[@id='ban_list']/field[@name='arch']/list")
    assert ban_list.find("field[@name='state']") is not None
    assert ban_list.find("button[@name='action_unban']").get("invisible") == "state != 'active'"
    search = root.find(".//record[@id='ban_search']/field[@name='arch']/search")
    domains = {f.get("name"): f.get("domain") for f in search.iter("filter")}
    assert domains["state_expired"] == "[('state', '=', 'expired')]"
    source = (MODULE / "models" / "ban.py").read_text()
    assert 'search="_search_state"' in source and 'compute="_compute_state"' in source


def test_the_conf_file_content_is_a_monospace_unwrapped_text_area() -> None:
    root = ElementTree.parse(MODULE / "views" / "conf_views.xml").getroot()
    content = root.find(".//record[@id='conf_form']//field[@name='content']")
    assert content.get("widget") is None  # the code editor wrapped dialplan lines in a narrow column
    css_class = content.get("class")
    scss = "\n".join(p.read_text() for p in MODULE.glob("static/src/**/*.scss"))
    block = scss[scss.index(f".{css_class}") :]
    for rule in (
        "white-space: pre",
        "overflow-x: auto",
        "width: 100%",
        "font-family: $font-family-monospace",
    ):
        assert rule in block, rule


def _literal_text(node: ast.AST | None) -> bool:
    """A string constant, or an f-string with words of its own: text nobody can translate."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(node.value.strip())
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.Constant) and v.value.strip() for v in node.values)
    return False


def test_every_user_facing_message_goes_through_translation() -> None:
    checked = 0
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ERRORS:
                assert not _literal_text(node.args[0] if node.args else None), f"{path.name}:{node.lineno}"
                checked += 1
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if isinstance(key, ast.Constant) and key.value in ("title", "message"):
                        assert not _literal_text(value), f"{path.name}:{node.lineno}"
    assert checked > 30


# A phrase: two words of letters. The plain-Python files of a call's words must have none outside `_("...")`.
_PHRASE = re.compile(r"[A-Za-z]{2,}'?[a-z]* +[A-Za-z(]")
_MATCHED = {"does not exist"}  # Asterisk's words, looked for in what it said: never shown by the module


def _phrases_outside_translation(source: str) -> list[tuple[int, str]]:
    tree = ast.parse(source)
    skip = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "_"
            and node.args
        ):
            skip.add(id(node.args[0]))
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            skip.add(id(body[0].value))  # a docstring
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in skip
        and node.value not in _MATCHED
        and _PHRASE.search(node.value)
    ]


def test_a_calls_words_all_go_through_the_translator() -> None:
    """call_words.py, call_state.py and call_events.py make the timeline and the reason a call failed."""
    for name in ("call_words.py", "call_state.py", "call_events.py"):
        assert _phrases_outside_translation((MODULE / name).read_text()) == [], name
    # The check sees a phrase left outside `_()`, as a line of the module would have it.
    text = (MODULE / "call_words.py").read_text()
    untranslated = text.replace('_("%s leaves queue %s", ch, queue)', 'f"{ch} leaves queue {queue}"')
    assert untranslated != text
    assert [value for _line, value in _phrases_outside_translation(untranslated)] == [" leaves queue "]


def test_the_translator_formats_in_english_without_odoo() -> None:
    compat = load("compat")
    _ = compat.translator(SimpleNamespace(lang="en_US"))
    assert _("%s file(s) sent to the agent", 3) == "3 file(s) sent to the agent"
    assert _("Done") == "Done"
    assert compat.translator(SimpleNamespace(lang=None))("%s s", 5) == "5 s"


def _po_entries(text: str) -> list[tuple[str, str]]:
    """(msgid, msgstr) of a .po/.pot, each string joined from its quoted lines; AssertionError if bad."""
    entries, current, field = [], {}, None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            if "msgid" in current and "msgstr" in current:
                entries.append((current["msgid"], current["msgstr"]))
                current, field = {}, None
            continue
        match = re.fullmatch(r'(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?) "(.*)"', line)
        if match:
            field = match.group(1)
            current[field] = match.group(2)
        else:
            cont = re.fullmatch(r'"(.*)"', line)
            assert cont and field, f"line {number}: {line}"
            current[field] += cont.group(1)
    if "msgid" in current:
        entries.append((current["msgid"], current.get("msgstr", "")))
    return entries


def test_the_pot_is_valid_and_holds_the_module_terms() -> None:
    text = (MODULE / "i18n" / "asterisk_plus.pot").read_text()
    entries = _po_entries(text)
    header = entries[0]
    assert header[0] == "" and "Content-Type: text/plain; charset=UTF-8" in header[1]
    ids = [msgid for msgid, _msgstr in entries[1:]]
    assert len(ids) == len(set(ids)) > 200  # no duplicate msgid: msgfmt refuses those
    assert all(msgstr == "" for _msgid, msgstr in entries[1:])  # a template translates nothing
    for term in ("Only Asterisk administrators may %s.", "Changed since sync", "Expired", "Bans"):
        assert term in ids, term
    # A call's words, made in plain Python and translated by the translator Odoo passes in.
    words = [
        node.args[0].value
        for name in ("call_words.py", "call_state.py")
        for node in ast.walk(ast.parse((MODULE / name).read_text()))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_"
        if isinstance(node.args[0], ast.Constant)  # not `_(known[1])`: a text marked where it is written
    ]
    assert len(words) > 30 and "Nobody answered" in words
    assert sorted(set(words) - set(ids)) == []


def test_icon_licence_readme_and_depends() -> None:
    assert (MODULE / "static" / "description" / "icon.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    licence = (MODULE / "LICENSE").read_text()
    assert "GNU LESSER GENERAL PUBLIC LICENSE" in licence and "Version 3" in licence
    assert manifest()["license"] == "LGPL-3"
    for fragment in ("DESCRIPTION.md", "CONFIGURE.md", "USAGE.md", "CONTRIBUTORS.md"):
        assert (MODULE / "readme" / fragment).read_text().strip(), fragment
    # base and bus come with mail (and contacts needs mail): the manifest names what it needs directly.
    assert manifest()["depends"] == ["contacts", "mail"]
    menus = (MODULE / "views" / "menus.xml").read_text()
    assert 'web_icon="asterisk_plus,static/description/icon.png"' in menus
