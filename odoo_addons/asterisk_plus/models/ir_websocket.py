"""Odoo 17: Call Managers' browsers listen to their group's bus channel (the live view's news,
call_supervision.py). Odoo 18 subscribes every user to the channels of all their groups by itself."""

from odoo import models, release

MANAGER = "asterisk_plus.group_call_manager"


class IrWebsocket(models.AbstractModel):
    _inherit = "ir.websocket"

    def _build_bus_channel_list(self, channels):
        channels = super()._build_bus_channel_list(channels)
        if release.version_info[0] < 18 and self.env.uid and self.env.user.has_group(MANAGER):
            channels = [*channels, self.env.ref(MANAGER)]
        return channels
