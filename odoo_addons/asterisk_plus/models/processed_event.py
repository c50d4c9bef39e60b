from odoo import fields, models


class ProcessedEvent(models.Model):
    """Event ids already applied: a redelivered event changes nothing."""

    _name = "asterisk_plus.processed_event"
    _description = "AMI event already processed"

    name = fields.Char(required=True, index=True)
    _sql_constraints = [("name_unique", "unique(name)", "An event is processed once.")]
