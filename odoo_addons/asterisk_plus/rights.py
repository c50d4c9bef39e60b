"""Who may do what, said once: the checks the buttons, the password and the bridge's calls share."""

from odoo.exceptions import AccessError

from .compat import translator

ADMIN = "asterisk_plus.group_admin"


def require_admin(env, what):
    """AccessError unless the user (not sudo: the real one) is an Asterisk administrator."""
    if not env.user.has_group(ADMIN):
        _ = translator(env)
        raise AccessError(_("Only Asterisk administrators may %s.", what))


def check_access(records, operation):
    """AccessError unless the user may `operation` the records (Odoo 18: check_access; 17: rights, rules)."""
    if hasattr(records, "check_access"):
        records.check_access(operation)
    else:
        records.check_access_rights(operation)
        records.check_access_rule(operation)
