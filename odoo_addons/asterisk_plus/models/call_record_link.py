"""Calls linked to records of other modules (asterisk_plus_crm's leads, asterisk_plus_helpdesk's tickets): a
click-to-call from such a record links the call to it, and each ended call linked to one leaves one line on
its chatter, once. A module names its links in `_record_links`."""

import logging

from markupsafe import Markup
from odoo import api, models

from .call_outcome import ENDED

_logger = logging.getLogger(__name__)


class CallRecordLink(models.Model):
    _inherit = "asterisk_plus.call"

    def _record_links(self):
        """[(model, the call's many2one to it, the call's boolean "written on its chatter")]."""
        return []

    @api.model_create_multi
    def create(self, vals_list):
        links = self._record_links()
        for vals in vals_list:  # a click-to-call from a linked record
            for model, field, _logged in links:
                if vals.get("res_model") == model and vals.get("res_id") and not vals.get(field):
                    vals[field] = vals["res_id"]
        calls = super().create(vals_list)
        for _model, field, logged in links:
            calls._log_on_linked(field, logged)
        return calls

    def write(self, vals):
        result = super().write(vals)
        for _model, field, logged in self._record_links():
            if (field in vals or "status" in vals) and logged not in vals:
                self._log_on_linked(field, logged)
        return result

    def _log_on_linked(self, field, logged):
        """One chatter line per ended call on the record its `field` links it to, once."""
        todo = self.sudo().filtered(lambda c: c[field] and c.status in ENDED and not c[logged])
        if not todo:
            return
        todo.write({logged: True})
        lines = {}
        for call in todo:
            lines.setdefault(call[field].id, []).append(call._chatter_line())
        records = todo[field].browse(list(lines))
        try:
            with self.env.cr.savepoint():
                records._message_log_batch({rec: Markup("").join(body) for rec, body in lines.items()})
        except Exception:  # noqa: BLE001 - the call is stored; a chatter note is not worth losing it
            _logger.exception("could not write calls on the chatter of %s", records._name)
