"""One module source for Odoo 17.0 and 18.0: the list view's name, the chatter, translating.

Odoo 18 renamed the list view from `tree` to `list` and kept no alias: its `ir.ui.view.type` and
`ir.actions.act_window.view.view_mode` selections only know `list`, and an arch rooted at `<tree>` fails
validation. Odoo 17 only knows `tree` for views (its web client already maps an action's `list` mode, but a
`<list>` arch is refused). So the module's files are written for 18 (`<list>`, view_mode `list`) and, on 17
only, models/compat17_mixin.py passes the module's own view and action values through the functions below as
they load (install and upgrade alike).

Odoo 18's form views take the chatter as `<chatter/>`; Odoo 17's web client only knows the older
`<div class="oe_chatter">` with its fields, so arch_for_17 writes that instead.

Plain Python without Odoo imports at load time, so tests/odoo_module checks it without an Odoo.
"""

import re

# An opening or closing `list` element. In XML a bare `<` cannot occur in text or in attribute values, so this
# only meets tags (and comments, where changing it is harmless). XPath expressions such as `expr="//list"` in
# inheriting views are left as they are: the module has none.
_LIST_TAG = re.compile(r"<(/?)list(?=[\s/>])")


_CHATTER = re.compile(r"<chatter\s*/>")
CHATTER_17 = '<div class="oe_chatter"><field name="message_follower_ids"/><field name="message_ids"/></div>'


def arch_for_17(arch):
    """An arch with every `<list>` element turned into `<tree>` and `<chatter/>` into Odoo 17's chatter."""
    if not isinstance(arch, str):
        return arch
    return _CHATTER.sub(CHATTER_17, _LIST_TAG.sub(r"<\1tree", arch))


def view_mode_for_17(view_mode):
    """`list,form` -> `tree,form`."""
    if not isinstance(view_mode, str):
        return view_mode
    return ",".join("tree" if mode.strip() == "list" else mode for mode in view_mode.split(","))


def view_values_for_17(values):
    """The values of an `ir.ui.view` create/write with the arch translated (a copy)."""
    values = dict(values)
    for name in ("arch", "arch_base", "arch_db"):
        if name in values:
            values[name] = arch_for_17(values[name])
    if values.get("type") == "list":
        values["type"] = "tree"
    return values


def action_values_for_17(values):
    """The values of an `ir.actions.act_window` (or its `.view` lines) create/write, view modes translated."""
    values = dict(values)
    if "view_mode" in values:
        values["view_mode"] = view_mode_for_17(values["view_mode"])
    return values


def cron_values_for_17(values):
    """The values of an `ir.cron` create/write: it runs for ever unless they say otherwise (17's `numbercall`
    defaults to 1: a cron that runs once, then switches itself off; Odoo 18 has no such field)."""
    return dict({"numbercall": -1}, **values)


# The models whose records loaded from this module's files pass through these on Odoo 17
# (models/compat17_mixin.py, inherited by each of them).
VALUES_FOR_17 = {
    "ir.ui.view": view_values_for_17,
    "ir.actions.act_window": action_values_for_17,
    "ir.cron": cron_values_for_17,
}

MODULE = "asterisk_plus"


def loaded_from_this_module(env):
    """True while Odoo loads this module's own data files (`install_module` is in the loader's context)."""
    return env.context.get("install_module") == MODULE


def translator(env=None):
    """`_` in `env`'s language, the same on Odoo 17 and 18: `_ = translator(env)`, then `_("%s files", n)`.

    Odoo's own `_` guesses the language from the caller's frame (a local `self` with an env, or the HTTP
    request) and finds nothing in a plain function; Odoo 18's `env._` has no Odoo 17 counterpart. Calls are
    still spelled `_(...)`, so Odoo's term export finds them. Without an env: the request's, else English."""
    lang = getattr(env, "lang", None) if env is not None else _request_lang()
    lang = lang or "en_US"

    def _(source, *args):
        text = _python_translation(lang, source) if lang != "en_US" else source
        if not args:
            return text
        try:
            return text % args
        except (TypeError, ValueError, KeyError):  # a broken translation: the English text still reads
            return source % args

    return _


def _python_translation(lang, source):
    from odoo.tools.translate import code_translations  # noqa: PLC0415 - Odoo only where Odoo runs

    return code_translations.get_python_translations(MODULE, lang).get(source, source)


def _request_lang():
    try:
        from odoo.http import request  # noqa: PLC0415 - Odoo only where Odoo runs

        return request.env.lang if request and request.env else None
    except (ImportError, RuntimeError, AttributeError):
        return None
