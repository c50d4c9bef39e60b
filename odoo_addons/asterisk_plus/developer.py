"""The developer API's mark: which model methods the dialplan may reach (docs/odoo-api.md, "The developer
API").

A method is called from `UserEvent(OdooExecute, ...)` only when it carries this mark in the code AND an
Asterisk admin allowed its (model, method) with an active rule (`asterisk_plus.execute_rule`): the code says
what is safe to call, the admin says what is wanted. An override that does not repeat the mark drops it.
"""

MARK = "_asterisk_plus_dialplan"


def dialplan(method):
    """Mark a model method as callable from the dialplan: `method(self, server, args, item)`, where `server`
    is the asterisk_plus.server record, `args` the decoded `Args` JSON object and `item` the whole event."""
    setattr(method, MARK, True)
    return method


def is_dialplan(method):
    return bool(getattr(method, MARK, False))
