"""The phonebook Odoo publishes into the agent's Redis: E.164 number -> the name a desk phone shows.

The agent's phonebook service (services/phonebook) answers the dialplan's CURL() and the desk phones' remote
phonebook from it, so names keep coming while Odoo is down and Odoo is not asked once per call. Per server:
`<prefix>:<server>:phonebook` (a hash, number -> name) and `<prefix>:<server>:phonebook:meta` (token, country,
count, updated_at). Changed numbers are published after the transaction commits; a rebuild (button, daily
cron) writes the whole hash under a temporary key and renames it over the old one."""

import logging
import secrets

from odoo import api, fields, models

from .. import bus_client as bus

_logger = logging.getLogger(__name__)

PENDING = "asterisk_plus.phonebook"  # precommit data key: the numbers changed in this transaction
CHUNK = 5000


def new_token():
    return secrets.token_urlsafe(24)


class Phonebook(models.AbstractModel):
    _name = "asterisk_plus.phonebook"
    _description = "Phonebook published to the agent (number -> name)"

    @api.model
    def _servers(self):
        return self.env["asterisk_plus.server"].sudo().search([("phonebook_enabled", "=", True)])

    @api.model
    def _numbers_changed(self, numbers):
        """Publish these numbers again (their name now, or their removal) once the transaction commits."""
        numbers = {n for n in numbers if n}
        if not numbers:
            return
        data = self.env.cr.precommit.data
        if PENDING not in data:
            data[PENDING] = set()
            self.env.cr.precommit.add(self._flush_changed)
        data[PENDING].update(numbers)

    def _flush_changed(self):
        """Before commit (the data is final and readable): the entries; after commit: Redis."""
        numbers = self.env.cr.precommit.data.pop(PENDING, set())
        servers = self._servers()
        if not numbers or not servers:
            return
        entries = self._entries(numbers)
        targets = [bus.detached(server) for server in servers]

        def publish():
            for target in targets:
                try:
                    _write_entries(target, entries)
                except Exception as exc:  # noqa: BLE001 - the daily rebuild catches up
                    _logger.warning("phonebook of %s not updated (%s): the next rebuild is", target.name, exc)

        self.env.cr.postcommit.add(publish)

    @api.model
    def _entries(self, numbers):
        """{number: name, or "" when no record has it any more}, through the one lookup."""
        lookup = self.env["asterisk_plus.lookup"]
        found = lookup._lookup_numbers(list(numbers))
        labels = lookup._lookup_labels(list(found.values()))
        return {number: labels.get(found.get(number), "") if found.get(number) else "" for number in numbers}

    @api.model
    def _all_numbers(self):
        """Every number the phonebook holds: the partners'. Extend it with the numbers of records you add to
        the lookup (lookup.py, _lookup_candidates)."""
        self.env["res.partner"].flush_model(["phone_e164", "mobile_e164", "active"])
        self.env.cr.execute(
            """
            SELECT phone_e164 FROM res_partner WHERE active AND phone_e164 LIKE '+%%'
            UNION
            SELECT mobile_e164 FROM res_partner WHERE active AND mobile_e164 LIKE '+%%'
            """
        )
        return {row[0] for row in self.env.cr.fetchall()}

    @api.model
    def _rebuild(self, servers):
        """The whole phonebook of each server, written at once (a temporary hash renamed over the old one)."""
        entries = {n: name for n, name in self._entries(self._all_numbers()).items() if name}
        now = fields.Datetime.now().isoformat()
        for server in servers:
            if not server.phonebook_token:
                server.phonebook_token = new_token()
            _replace_all(server, entries, self._meta(server, len(entries), now))
        return len(entries)

    @api.model
    def _meta(self, server, count=None, updated_at=None):
        meta = {"token": server.phonebook_token or "", "country": server.country_id.code or ""}
        if count is not None:
            meta.update(count=str(count), updated_at=updated_at or "")
        return meta

    @api.model
    def _cron_rebuild(self):
        servers = self._servers()
        for server in servers:
            try:
                self._rebuild(server)
            except Exception as exc:  # noqa: BLE001 - one unreachable Redis must not hold the others back
                _logger.warning("phonebook of %s not rebuilt: %s", server.name, exc)


def _write_entries(server, entries):
    names = {number: name for number, name in entries.items() if name}
    gone = [number for number, name in entries.items() if not name]
    pipe = bus.client(server).pipeline(transaction=False)
    key = bus.key(server, "phonebook")
    if names:
        pipe.hset(key, mapping=names)
    if gone:
        pipe.hdel(key, *gone)
    pipe.execute()


def _replace_all(server, entries, meta):
    client = bus.client(server)
    key, temporary = bus.key(server, "phonebook"), bus.key(server, f"phonebook:new:{new_token()}")
    items = list(entries.items())
    try:
        pipe = client.pipeline(transaction=False)
        for start in range(0, len(items), CHUNK):
            pipe.hset(temporary, mapping=dict(items[start : start + CHUNK]))
        pipe.execute()
        pipe = client.pipeline(transaction=True)
        if items:
            pipe.rename(temporary, key)
        else:
            pipe.delete(key)
        pipe.hset(bus.key(server, "phonebook:meta"), mapping=meta)
        pipe.execute()
    finally:
        client.delete(temporary)
