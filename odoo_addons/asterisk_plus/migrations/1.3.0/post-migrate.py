"""1.3.0, Odoo 17: the module's crons were made with 17's default `numbercall` 1, so each ran once and then
switched itself off. They run for ever now (models/ir_cron.py makes new ones so); one a person switched off
while it still had runs left stays off."""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        "SELECT 1 FROM information_schema.columns WHERE table_name = 'ir_cron' AND column_name = 'numbercall'"
    )
    if not cr.fetchone():
        return  # Odoo 18 and later
    cr.execute(
        """
        UPDATE ir_cron SET numbercall = -1, active = CASE WHEN numbercall = 0 THEN true ELSE active END
         WHERE numbercall >= 0
           AND id IN (SELECT res_id FROM ir_model_data WHERE module = 'asterisk_plus' AND model = 'ir.cron')
        """
    )
