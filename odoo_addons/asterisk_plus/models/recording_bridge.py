"""The recordings the agent sends (docs/odoo-api.md, "Recordings"): chunks staged, then the summary that
assembles and checks them into one attachment of the call, found by Linkedid or by a channel's Uniqueid (now,
or when the call's events come later: call_recording.py).

Like the bridge's other methods, each is for the server's system account only, and takes only what is on the
bus: the item's `@entry` must be an entry of the `recordings` stream holding the same fields."""

import logging

import psycopg2
from odoo import api, models

from .. import bus_client as bus
from .. import recording_items as ri
from .call import parse_at
from .call_ingest import ConcurrentUpdate

_logger = logging.getLogger(__name__)

STREAM = "recordings"


def _error(text, server, item):
    _logger.warning("recording refused: %s (%s %s)", text, server.name, item.get("@id") or "")
    return {"status": "error", "error": text}


class RecordingBridge(models.Model):
    _inherit = "asterisk_plus.recording"

    @api.model
    def bridge_on_chunks(self, server_name, items):
        server = self.env["asterisk_plus.server"]._for_bridge(server_name)
        parsed = []
        for item in items:
            try:
                parsed.append(ri.chunk(item))
            except ValueError as exc:
                parsed.append(str(exc))
        well_formed = [item for item, one in zip(items, parsed, strict=True) if isinstance(one, ri.Chunk)]
        on_bus = iter(bus.on_bus(server, STREAM, well_formed, names=ri.CHUNK_FIELDS) if well_formed else [])
        keys = list({one.key for one in parsed if isinstance(one, ri.Chunk)})
        stored = set(self.sudo().search([("server_id", "=", server.id), ("key", "in", keys)]).mapped("key"))
        results = []
        for item, one in zip(items, parsed, strict=True):
            if not isinstance(one, ri.Chunk):
                results.append(_error(one, server, item))
            elif not next(on_bus):
                results.append(_error("no such recording.chunk on the bus", server, item))
            elif one.key in stored:
                results.append({"status": "duplicate"})
            else:
                results.append({"status": "ok" if self._stage(server, one) else "duplicate"})
        return results

    def _stage(self, server, chunk):
        """Store the chunk unless it is there already (also when another worker just stored it)."""
        self.env.cr.execute(
            """
            INSERT INTO asterisk_plus_recording_chunk
                   (server_id, recording, sha256, chunk_index, data, create_uid, create_date, write_uid,
                    write_date)
            VALUES (%s, %s, %s, %s, %s, %s, now() AT TIME ZONE 'UTC', %s, now() AT TIME ZONE 'UTC')
            ON CONFLICT (server_id, recording, sha256, chunk_index) DO NOTHING
            RETURNING id
            """,
            [
                server.id,
                chunk.key,
                chunk.sha256,
                chunk.index,
                psycopg2.Binary(chunk.data.encode()),
                self.env.uid,
                self.env.uid,
            ],
        )
        return bool(self.env.cr.fetchone())

    @api.model
    def bridge_on_recordings(self, server_name, items):
        server = self.env["asterisk_plus.server"]._for_bridge(server_name)
        on_bus = bus.on_bus(server, STREAM, items, names=ri.SUMMARY_FIELDS) if items else []
        keys = [str(item.get("@id") or "") for item in items]
        stored = set(self.sudo().search([("server_id", "=", server.id), ("key", "in", keys)]).mapped("key"))
        results = []
        for item, key, seen in zip(items, keys, on_bus, strict=True):
            if key in stored:
                results.append({"status": "duplicate"})
                continue
            if not seen:
                results.append(_error("no such recording on the bus", server, item))
                continue
            try:
                values = ri.summary(item)
                values["recorded_at"] = parse_at(values["recorded_at"])
                data = ri.join(values, self._staged(server, values)) if values["status"] == "ok" else None
            except ValueError as exc:
                results.append(_error(str(exc), server, item))
                continue
            self._store(server, values, data)
            stored.add(key)
            results.append({"status": "ok"})
        return results

    def _staged(self, server, values):
        self.env.cr.execute(
            """
            SELECT chunk_index, data FROM asterisk_plus_recording_chunk
             WHERE server_id = %s AND recording = %s AND sha256 = %s AND chunk_index < %s
            """,
            [server.id, values["key"], values["sha256"], values["chunks"]],
        )
        return {index: bytes(data).decode() for index, data in self.env.cr.fetchall()}

    def _store(self, server, values, data):
        call = self._calls_of(server, [values]).get(values["key"]) or self.env["asterisk_plus.call"]
        record_values = {
            "server_id": server.id,
            "call_id": call.id or False,
            **{k: v or False for k, v in values.items() if k not in ("chunks",)},
        }
        record_values["duration"] = values["duration"]
        record_values["size"] = values["size"] if data is not None else 0
        try:
            with self.env.cr.savepoint():
                recording = self.sudo().create(record_values)
        except psycopg2.errors.UniqueViolation as exc:
            # The same summary on another worker at the same time: Odoo runs the request again, which then
            # finds it stored (duplicate).
            raise ConcurrentUpdate(str(exc)) from exc
        if data is not None:
            recording.attachment_id = (
                self.env["ir.attachment"]
                .sudo()
                .create(
                    {
                        "name": values["name"],
                        "mimetype": "audio/mpeg",
                        "raw": data,
                        "res_model": "asterisk_plus.call",
                        "res_id": call.id or False,
                        "description": values["file"],
                    }
                )
            )
            self.env.cr.execute(
                "DELETE FROM asterisk_plus_recording_chunk WHERE server_id = %s AND recording = %s",
                [server.id, values["key"]],
            )
        _logger.info(
            "recording %s (%s) of server %s stored, call %s",
            values["file"],
            values["status"],
            server.name,
            call.linkedid or "not known yet",
        )
        return recording

    @api.model
    def _calls_of(self, server, wanted):
        """{recording key: call} for recordings (dicts with key, linkedid, uniqueid, or records): the call
        whose Linkedid is the recording's Linkedid, else the call with a leg of its Uniqueid, else the call
        whose Linkedid is its Uniqueid (the first channel of a call)."""
        calls = self.env["asterisk_plus.call"].sudo()
        linked = {w["linkedid"] for w in wanted if w["linkedid"]} | {
            w["uniqueid"] for w in wanted if w["uniqueid"]
        }
        uniqueids = [w["uniqueid"] for w in wanted if w["uniqueid"]]
        by_linkedid = {
            c.linkedid: c
            for c in calls.search([("server_id", "=", server.id), ("linkedid", "in", list(linked))])
        }
        legs = (
            self.env["asterisk_plus.call.leg"]
            .sudo()
            .search([("server_id", "=", server.id), ("uniqueid", "in", uniqueids)])
        )
        by_leg = {leg.uniqueid: leg.call_id for leg in legs}
        found = {}
        for w in wanted:
            call = (
                by_linkedid.get(w["linkedid"]) or by_leg.get(w["uniqueid"]) or by_linkedid.get(w["uniqueid"])
            )
            if call:
                found[w["key"]] = call
        return found
