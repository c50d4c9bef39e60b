from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class PbxUserChannel(models.Model):
    _name = "asterisk_plus.user.channel"
    _description = "A phone of a PBX user (desk phone, softphone...)"
    _order = "sequence, id"

    pbx_user_id = fields.Many2one("asterisk_plus.user", required=True, ondelete="cascade")
    sequence = fields.Integer(default=10)
    name = fields.Char(string="Channel", required=True, help="e.g. PJSIP/101 or PJSIP/101-soft")
    label = fields.Char(help="e.g. Desk phone, Softphone")
    originate = fields.Boolean(default=True, string="Rings on click-to-call")
    auto_answer = fields.Boolean(help="Ask the phone to answer by itself (a SIP header) on click-to-call")
    auto_answer_header = fields.Char(
        default="Call-Info: answer-after=0",
        help="The SIP header that makes this phone answer by itself (e.g. Alert-Info: info=alert-autoanswer)",
    )

    @api.depends("name", "label")
    def _compute_display_name(self):
        for rec in self:
            rec.display_name = f"{rec.label} ({rec.name})" if rec.label else rec.name

    @api.constrains("auto_answer_header")
    def _check_header(self):
        for rec in self:
            if rec.auto_answer and ":" not in (rec.auto_answer_header or ""):
                raise ValidationError(_("The auto-answer header is `Name: value`"))

    def _auto_answer_variables(self):
        """The channel variable that adds the header to the INVITE, by channel driver."""
        if not self.auto_answer or ":" not in (self.auto_answer_header or ""):
            return []
        name, value = (part.strip() for part in self.auto_answer_header.split(":", 1))
        if self.name.startswith("PJSIP/"):
            return [f"PJSIP_HEADER(add,{name})={value}"]
        if self.name.startswith("SIP/"):
            return [f"SIPADDHEADER={name}: {value}"]
        return []
