"""AMI events into the call journal, a batch at a time and set-based (docs/odoo-api.md).

One search for the batch's event ids, one for its calls, one for its legs; new calls, legs and event ids
created in bulk; each call written once. The whole batch runs in one savepoint; only when it fails does each
item get a savepoint of its own, to find the bad one. The bridge may deliver different calls in parallel on
several workers: a call, leg or event id another transaction created meanwhile ends this one with a
serialization failure, which Odoo's RPC layer answers by running the request again (it then sees the other's
rows)."""

import json
import logging

import psycopg2
from odoo import api, models
from psycopg2 import errorcodes

from .. import call_events as ev
from .. import call_popup, call_state
from ..compat import translator
from .call_outcome import same

_logger = logging.getLogger(__name__)

OURS = {
    "asterisk_plus_call_linkedid_unique",
    "asterisk_plus_call_leg_uniqueid_unique",
    "asterisk_plus_processed_event_name_unique",
}
KEPT = {"participant_ids", "partner_id"}  # written only when they change (a relation costs more)
QUIET = {  # a call created from these contexts writes nothing in its own chatter
    "tracking_disable": True,
    "mail_create_nolog": True,
    "mail_create_nosubscribe": True,
    "mail_notrack": True,
}


_UNSET = object()


def _plain(value):
    """A field value as it is kept in the `written` digest (JSON)."""
    return value.isoformat() if hasattr(value, "isoformat") else value


class ConcurrentUpdate(psycopg2.errors.SerializationFailure):
    """Another worker created the same call, leg or event id: Odoo runs the request again (it retries
    serialization failures; Odoo 17 reads `pgcode`, 18 the class)."""

    pgcode = errorcodes.SERIALIZATION_FAILURE


def _ours(exc):
    return isinstance(exc, psycopg2.errors.UniqueViolation) and exc.diag.constraint_name in OURS


class _Buf:
    """One call while a batch is applied: its record (if any), key and facts."""

    def __init__(self, key, record=None):
        self.key = key
        self.record = record
        self.facts = json.loads(record.facts or "{}") if record else {}
        self.new_facts = []  # (fid, fact) of this batch
        self.absorbed = []  # records of provisional calls merged into this one
        self.effects = []


class CallIngest(models.Model):
    _inherit = "asterisk_plus.call"

    @api.model
    def on_ami_events(self, server_name, items):
        server = self.env["asterisk_plus.server"]._for_bridge(server_name)
        calls = self.sudo().with_context(**QUIET)
        try:
            with self.env.cr.savepoint():
                results, effects = calls._ingest(server, items)
        except Exception as exc:  # noqa: BLE001 - find the bad item below
            if _ours(exc):
                raise ConcurrentUpdate(str(exc)) from exc
            if isinstance(exc, ConcurrentUpdate | psycopg2.OperationalError):
                raise
            _logger.info("batch of %s items failed (%s), applying them one by one", len(items), exc)
            results, effects = [], []
            for item in items:
                try:
                    with self.env.cr.savepoint():
                        one, more = calls._ingest(server, [item])
                except Exception as exc_one:  # noqa: BLE001 - one bad event must not hold the others back
                    if _ours(exc_one):
                        raise ConcurrentUpdate(str(exc_one)) from exc_one
                    if isinstance(exc_one, ConcurrentUpdate | psycopg2.OperationalError):
                        raise
                    one, more = [{"status": "error", "error": f"{type(exc_one).__name__}: {exc_one}"}], []
                results += one
                effects += more
        calls._run_effects(server, effects)
        return results

    def _ingest(self, server, items):
        processed = self.env["asterisk_plus.processed_event"].sudo()
        ids = [str(item["@id"]) for item in items if item.get("@id")]
        done = set(processed.search([("name", "in", ids)]).mapped("name")) if ids else set()
        results, fresh, seen = [], [], set()
        for item in items:
            event_id = str(item.get("@id") or "")
            if event_id and (event_id in done or event_id in seen):
                results.append({"status": "duplicate"})
                continue
            if event_id:
                seen.add(event_id)
            found = ev.fact(item)
            if found is not None:
                fresh.append((ev.fact_id(item, found), found))
            results.append({"status": "ok"})
        effects = self._apply_facts(server, fresh) if fresh else []
        if seen:
            # Plain rows, many a batch: one INSERT without the ORM's per-record work.
            self.env.cr.execute(
                """
                INSERT INTO asterisk_plus_processed_event
                       (name, create_uid, create_date, write_uid, write_date)
                SELECT name, %s, now() AT TIME ZONE 'UTC', %s, now() AT TIME ZONE 'UTC'
                  FROM unnest(%s::varchar[]) AS name
                """,
                [self.env.uid, self.env.uid, sorted(seen)],
            )
        return results, effects

    # -- facts to calls ---------------------------------------------------------------------------------

    def _apply_facts(self, server, fresh, notify=True):
        """Add facts to their calls (found, merged or created), then write each touched call once."""
        lookup = set()
        for _fid, fact in fresh:
            linkedid, uniqueids = ev.keys(fact)
            lookup.update(filter(None, [linkedid, *uniqueids, *self._request_keys(fact)]))
        domain = [("server_id", "=", server.id), ("linkedid", "in", list(lookup))]
        by_key = {call.linkedid: call for call in self.search(domain)}
        leg_model = self.env["asterisk_plus.call.leg"].sudo()
        legs = {
            leg.uniqueid: leg
            for leg in leg_model.search([("server_id", "=", server.id), ("uniqueid", "in", list(lookup))])
        }
        bufs, alias = {}, {}

        def resolve(key):
            """The key of the call this Linkedid, Uniqueid or channel id belongs to, if any yet."""
            while key in alias:
                key = alias[key]
            if key in bufs or key in by_key:
                return key
            if key in legs:
                call = legs[key].call_id
                if call.linkedid in alias:
                    return resolve(call.linkedid)
                by_key.setdefault(call.linkedid, call)
                return call.linkedid
            return None

        def buf(key):
            if key not in bufs:
                bufs[key] = _Buf(key, by_key.get(key))
            return bufs[key]

        def absorb(into, key):
            """A call made under a channel's Uniqueid (its Cdr came first) is that channel's call's."""
            other = bufs.pop(key, None) or _Buf(key, by_key[key])
            target = bufs[into]
            for fid, fact in other.facts.items():
                call_state.add(target.facts, fid, fact)
            target.new_facts += other.new_facts
            target.absorbed += other.absorbed + ([other.record] if other.record else [])
            alias[key] = into
            by_key.pop(key, None)

        for fid, fact in fresh:
            linkedid, uniqueids = ev.keys(fact)
            key = None
            if linkedid:
                key = resolve(linkedid) or linkedid
            else:
                for candidate in [*uniqueids, *self._request_keys(fact)]:
                    key = resolve(candidate)
                    if key:
                        break
                # A supervisor's phone that never rang makes no call: the reply tells them, on the spied call.
                never_rang = fact["e"] == "OriginateResponse" and any(
                    u.startswith(ev.SUPERVISION_PREFIX) for u in uniqueids
                )
                if not key and fact["e"] in ("Cdr", "OriginateResponse") and uniqueids and not never_rang:
                    key = uniqueids[0]  # until an event names its Linkedid
            if not key:
                continue  # e.g. an OriginateResponse that is no call of ours and never started
            target = buf(key)
            if linkedid:
                for uniqueid in uniqueids:
                    other = resolve(uniqueid) if uniqueid != key else None
                    if other and other != key and other == uniqueid:
                        absorb(key, other)
            call_state.add(target.facts, fid, fact)
            target.new_facts.append((fid, fact))
        return self._write_calls(server, bufs, legs, notify)

    @staticmethod
    def _request_keys(fact):
        return [ev.channel_id(fact["req"])] if fact.get("req") else []

    def _write_calls(self, server, bufs, legs, notify):
        people = self.env["asterisk_plus.user"].sudo()._directory(server)
        # The reason is stored, so it is written once for every reader: in the company's language (the
        # timeline, computed as it is read, is in each reader's).
        _ = translator(self._company_env())
        numbers = set()
        for b in bufs.values():
            b.summary = call_state.summarize(b.facts, b.key, _)
            if self._stop_siblings(server, b):
                b.summary = call_state.summarize(b.facts, b.key, _)
            s = b.summary
            number = s["caller"] if s["direction"] == "in" else s["called"]
            if number.startswith("+") and not (b.record and b.record.partner_id):
                numbers.add(number)
        partners = self._partners_by_number(numbers)
        creates = []
        for b in bufs.values():
            values = self._values(server, b, people, partners)
            digest = {
                name: _plain(value) for name, value in values.items() if name not in KEPT and name != "facts"
            }
            # What the journal wrote last time says which fields changed, without reading them all.
            written = json.loads(b.record.written or "{}") if b.record else {}
            b.popup_before = written.get("@popup") or {}
            b.popup, b.tell = call_popup.news(b.summary, b.popup_before, people.user_of)
            if b.popup:
                digest["@popup"] = b.popup
            if b.record:
                b.old_status = written.get("status") or b.record.status
                changed = {
                    name: value
                    for name, value in values.items()
                    if (name in digest and written.get(name, _UNSET) != digest[name])
                    or (name in KEPT and not same(b.record, name, value))
                    or (name == "facts" and b.new_facts)
                }
                if changed or digest.get("@popup") != written.get("@popup"):
                    b.record.write(dict(changed, written=json.dumps(digest, separators=(",", ":"))))
            else:
                b.old_status = None
                values["written"] = json.dumps(digest, separators=(",", ":"))
                creates.append((b, dict(values, server_id=server.id, linkedid=b.key)))
        if creates:
            for (b, _values), record in zip(creates, self.create([v for _b, v in creates]), strict=True):
                b.record = record
        self._write_legs(server, bufs, legs)
        self._check_timezone(server, bufs)
        effects = []
        for b in bufs.values():
            effects += self._effects(b, people, notify)
        return effects

    def _write_legs(self, server, bufs, legs):
        leg_model = self.env["asterisk_plus.call.leg"].sudo()
        new_legs = {}
        for b in bufs.values():
            absorbed = [record.id for record in b.absorbed]
            if absorbed:
                leg_model.search([("call_id", "in", absorbed)]).write({"call_id": b.record.id})
                self.browse(absorbed).unlink()
            channels = {leg["uniqueid"]: leg["channel"] for leg in b.summary["legs"]}
            for _fid, fact in b.new_facts:
                for uniqueid in ev.keys(fact)[1]:
                    if uniqueid not in legs and uniqueid not in new_legs:
                        new_legs[uniqueid] = {
                            "call_id": b.record.id,
                            "server_id": server.id,
                            "uniqueid": uniqueid,
                            "channel": channels.get(uniqueid, ""),
                        }
        if new_legs:
            leg_model.flush_model()
            rows = list(new_legs.values())
            self.env.cr.execute(
                """
                INSERT INTO asterisk_plus_call_leg
                       (call_id, server_id, uniqueid, channel, create_uid, create_date, write_uid, write_date)
                SELECT call_id, %s, uniqueid, channel, %s, now() AT TIME ZONE 'UTC',
                       %s, now() AT TIME ZONE 'UTC'
                  FROM unnest(%s::int[], %s::varchar[], %s::varchar[]) AS leg(call_id, uniqueid, channel)
                """,
                [
                    server.id,
                    self.env.uid,
                    self.env.uid,
                    [row["call_id"] for row in rows],
                    [row["uniqueid"] for row in rows],
                    [row["channel"] for row in rows],
                ],
            )
            self.env["asterisk_plus.call.leg"].invalidate_model()
