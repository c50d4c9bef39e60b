"""One lookup, number -> record: who is behind an E.164 number, for the call journal, the incoming call
pop-up, click-to-call and the phonebook. Other modules add their records by extending _lookup_candidates."""

from odoo import api, models, tools

from .. import lookup_rules


class Lookup(models.AbstractModel):
    _name = "asterisk_plus.lookup"
    _description = "Phone number to record"

    @api.model
    def _lookup(self, number):
        """(model, id, partner id) of the record behind an E.164 number, or None. Cached per number; partner
        writes that change a number, a name or a company clear it (e164_mixin.py); a new call does not, so
        "the most recent call" is the one when the number was last looked up afresh."""
        return self._lookup_cached(number) if number else None

    @tools.ormcache("number")
    def _lookup_cached(self, number):
        return self._lookup_numbers([number]).get(number)

    @api.model
    def _lookup_many(self, numbers):
        """{number: (model, id, partner id)} for the numbers that stand for a record (cached per number)."""
        found = {number: self._lookup(number) for number in set(numbers) if number}
        return {number: value for number, value in found.items() if value}

    @api.model
    def _lookup_numbers(self, numbers):
        """The same as _lookup_many without the cache, set-based: one search per kind of record, one more for
        the most recent calls when candidates tie."""
        by_number = self._lookup_candidates(list(set(numbers)))
        partners = {
            c["partner_id"]
            for candidates in by_number.values()
            if len(lookup_rules.tied(candidates)) > 1
            for c in lookup_rules.tied(candidates)
            if c.get("partner_id")
        }
        recent = self._last_calls(partners) if partners else {}
        out = {}
        for number, candidates in by_number.items():
            chosen = lookup_rules.best(candidates, recent)
            if chosen:
                out[number] = (chosen["model"], chosen["id"], chosen.get("partner_id") or False)
        return out

    @api.model
    def _lookup_candidates(self, numbers):
        """{number: [candidate]}: every record that has one of these E.164 numbers. A candidate is
        {"model", "id", "partner_id", "rank"}; the lowest rank wins (lookup_rules.py). Extend it to add
        records of your own: call super(), then add yours to the lists."""
        out = {number: [] for number in numbers}
        if not numbers:
            return out
        partners = (
            self.env["res.partner"]
            .sudo()
            .search_read(
                ["|", ("phone_e164", "in", numbers), ("mobile_e164", "in", numbers)],
                ["phone_e164", "mobile_e164", "is_company"],
            )
        )
        for partner in partners:
            candidate = {
                "model": "res.partner",
                "id": partner["id"],
                "partner_id": partner["id"],
                "rank": lookup_rules.partner_rank(partner["is_company"]),
            }
            for number in {partner["phone_e164"], partner["mobile_e164"]}:
                if number in out:
                    out[number].append(candidate)
        return out

    @api.model
    def _last_calls(self, partner_ids):
        """{partner id: when its last call started (ISO text)}."""
        self.env["asterisk_plus.call"].flush_model(["partner_id", "started_at"])
        self.env.cr.execute(
            """
            SELECT partner_id, max(started_at) FROM asterisk_plus_call
             WHERE partner_id = ANY(%s) AND started_at IS NOT NULL
             GROUP BY partner_id
            """,
            [list(partner_ids)],
        )
        return {partner_id: started.isoformat() for partner_id, started in self.env.cr.fetchall()}

    @api.model
    def _lookup_card(self, found):
        """What the pop-up shows of a found record: {model, id, name, company, avatar}. Extend it for the
        records you add (the default reads display_name, and a partner's company and avatar)."""
        if not found:
            return {}
        model, res_id = found[0], found[1]
        record = self.env[model].sudo().browse(res_id).exists()
        if not record:
            return {}
        card = {"model": model, "id": res_id, "name": record.display_name, "company": "", "avatar": ""}
        if model == "res.partner":
            card["name"] = record.name or record.display_name
            if not record.is_company:
                card["company"] = record.parent_id.name or record.company_name or ""
            card["avatar"] = f"/web/image/res.partner/{res_id}/avatar_128"
        return card

    @api.model
    def _lookup_labels(self, founds):
        """{found: the name a desk phone shows}, e.g. `Jane Doe (Acme)`, for many found records at once.
        Extend it for the records you add (the default: a partner's name and company, else display_name)."""
        out, by_model = {}, {}
        for found in founds:
            by_model.setdefault(found[0], set()).add(found[1])
        for model, ids in by_model.items():
            records = self.env[model].sudo().browse(list(ids)).exists()
            if model == "res.partner":
                for partner in records:
                    company = "" if partner.is_company else partner.parent_id.name or partner.company_name
                    name = partner.name or partner.display_name
                    out[(model, partner.id)] = lookup_rules.label(name, company)
            else:
                for record in records:
                    out[(model, record.id)] = lookup_rules.label(record.display_name)
        return {found: out[found[:2]] for found in founds if out.get(found[:2])}
