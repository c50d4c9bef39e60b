"""What the web client needs to know of the user at start: may they click to call (phone fields' button)."""

from odoo import models


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    def session_info(self):
        info = super().session_info()
        info["asterisk_plus"] = {"can_call": self.env.user._asterisk_can_call()}
        return info
