"""Odoo 17 only: the module's `<list>` views and `list` view modes loaded as `tree` (see ../compat.py), and
its crons made to run for ever (17's `numbercall` defaults to 1: a cron that runs once, then switches itself
off; Odoo 18 has no such field).

The module's models are set up before its data files load, so these overrides already apply to its own
views and actions. They touch only records loaded from this module's files (`install_module` is in the
context the data loader uses), and do not exist at all on Odoo 18 and later."""

from odoo import api, models, release

from .. import compat

MODULE = "asterisk_plus"

if release.version_info[0] < 18:

    def _ours(env):
        return env.context.get("install_module") == MODULE

    class IrUiView(models.Model):
        _inherit = "ir.ui.view"

        @api.model_create_multi
        def create(self, vals_list):
            if _ours(self.env):
                vals_list = [compat.view_values_for_17(vals) for vals in vals_list]
            return super().create(vals_list)

        def write(self, vals):
            if _ours(self.env):
                vals = compat.view_values_for_17(vals)
            return super().write(vals)

    class IrActionsActWindow(models.Model):
        _inherit = "ir.actions.act_window"

        @api.model_create_multi
        def create(self, vals_list):
            if _ours(self.env):
                vals_list = [compat.action_values_for_17(vals) for vals in vals_list]
            return super().create(vals_list)

        def write(self, vals):
            if _ours(self.env):
                vals = compat.action_values_for_17(vals)
            return super().write(vals)

    class IrCron(models.Model):
        _inherit = "ir.cron"

        @api.model_create_multi
        def create(self, vals_list):
            if _ours(self.env):
                vals_list = [dict({"numbercall": -1}, **vals) for vals in vals_list]
            return super().create(vals_list)
