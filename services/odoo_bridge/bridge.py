"""The bridge: bus -> Odoo in batches (one RPC per model/method per lane of disjoint calls, lanes side by
side), and Odoo's answers back."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from services.bus import Backoff, Bus, Consumer, Entry, Log, Outcome, StateLog, Status, keys, now_iso

from .config import BridgeSettings
from .events_map import EventsMap
from .lanes import CallKeys, split
from .normalize import enrich
from .odoo import OdooDown, OdooPool, OdooRefused
from .recordings import RecordingsRoute
from .replies import RepliesRoute
from .tzcheck import TimezoneCheck

GROUP = "odoo_bridge"
SERVER_MODEL = "asterisk_plus.server"

# What reaches Odoo from `to_odoo`, by `@type` (docs/odoo-api.md).
TO_ODOO_ROUTES: dict[str, tuple[str, str]] = {
    "reply": (SERVER_MODEL, "bridge_on_replies"),
    "conf.result": (SERVER_MODEL, "bridge_on_replies"),
    "conf.initial_done": (SERVER_MODEL, "bridge_on_initial_done"),
    "conf.file": ("asterisk_plus.conf", "bridge_on_files"),
    "guard.ban": ("asterisk_plus.ban", "bridge_on_bans"),
    "guard.unban": ("asterisk_plus.ban", "bridge_on_bans"),
    "console.command": ("asterisk_plus.console_command", "bridge_on_commands"),
}


class Bridge:
    def __init__(self, settings: BridgeSettings, bus: Bus) -> None:
        self.settings = settings
        self.bus = bus
        self.log = Log("odoo_bridge", server=bus.server)
        self.odoo_state = StateLog(self.log, "Odoo")
        self.odoo = OdooPool(settings, self.log, settings.odoo_concurrency)
        self.call_keys = CallKeys()
        self.tz_check = TimezoneCheck(self.log, bus.server, settings.odoo_tz_tolerance_s)
        self.status = Status(bus, "odoo_bridge")
        self.config: dict[str, Any] | None = None
        self.events_map = EventsMap([])
        self.delivered = 0
        self._stop = asyncio.Event()
        self.recordings = RecordingsRoute(self)
        self.replies = RepliesRoute(self)

    async def call(self, model: str, method: str, *args: Any) -> Any:
        """An Odoo call that waits out Odoo being away (nothing is acked meanwhile, so nothing is lost).

        Only a stop interrupts the wait: the batch then stays pending and comes again after the restart.
        """
        backoff = Backoff(0.5, self.settings.odoo_retry_max_s)
        while True:
            try:
                result = await self.odoo.call(model, method, *args)
            except OdooDown as exc:
                if self.odoo_state.set(
                    "unreachable", logging.WARNING, error=str(exc), url=self.settings.odoo_url
                ):
                    await self.status.set(odoo_connected=0, ready=0, reason=f"Odoo unreachable: {exc}")
            except OdooRefused as exc:
                if "AccessDenied" not in str(exc) and "Wrong login" not in str(exc):
                    raise
                # A wrong password is fixed by a person; keep trying, say it once.
                if self.odoo_state.set(
                    "login refused",
                    logging.ERROR,
                    error=str(exc),
                    user=self.settings.odoo_user,
                    hint="check ODOO_USER / ODOO_PASSWORD (the server form's Password field)",
                ):
                    await self.status.set(odoo_connected=0, ready=0, reason=f"Odoo login refused: {exc}")
            else:
                if self.odoo_state.set("connected", url=self.settings.odoo_url, version=self.odoo.version):
                    await self.status.set(
                        odoo_connected=1, odoo_version=self.odoo.version, ready=1, reason=""
                    )
                return result
            if self._stop.is_set():
                raise OdooDown("stopping while Odoo is away")
            await backoff.sleep(self._stop)

    async def load_config(self) -> None:
        config = await self.call(SERVER_MODEL, "bridge_get_config", self.bus.server)
        self.events_map = EventsMap(config.get("events_map") or [])
        self.config = config
        self.log.info(
            "events map loaded",
            routes=sum(len(r) for r in self.events_map.by_event.values()),
            country=config.get("country_code"),
            tz=config.get("tz"),
        )

    async def deliver(self, groups: dict[tuple[str, str], list[Entry]]) -> Outcome:
        """One call per (model, method); items Odoo rejects for good are dead-lettered, the others acked."""
        outcome = Outcome()
        country, tz = (self.config or {}).get("country_code", ""), (self.config or {}).get("tz", "UTC")
        for (model, method), entries in groups.items():
            items = [enrich(e.as_item(), country, tz) for e in entries]
            started = time.monotonic()
            try:
                results = await self.call(model, method, self.bus.server, items)
            except OdooRefused as exc:
                # The whole call was refused (a missing method, a bug in Odoo): every entry of it comes again,
                # and goes to the dead letters with Odoo's text once BUS_MAX_DELIVERIES is reached.
                self.log.error(
                    "Odoo refused the batch",
                    model=model,
                    method=method,
                    count=len(items),
                    error=str(exc),
                    stream=entries[0].stream,
                    entry=entries[0].id,
                )
                outcome.retry.update({e.id: str(exc) for e in entries})
                continue
            if not isinstance(results, list) or len(results) != len(entries):
                error = f"{model}.{method} answered {type(results).__name__}, not one result per item"
                outcome.retry.update({e.id: error for e in entries})
                continue
            for entry, result in zip(entries, results, strict=True):
                if isinstance(result, dict) and result.get("status") == "error":
                    outcome.reject[entry.id] = f"Odoo: {result.get('error') or 'rejected'}"
            self.delivered += len(entries)
            self.status.fields["last_delivery_at"] = now_iso()
            self.log.info(
                "delivered",
                model=model,
                method=method,
                count=len(entries),
                stream=entries[0].stream,
                entry=entries[0].id,
                ms=round((time.monotonic() - started) * 1000, 1),
            )
        return outcome

    async def handle_events(self, batch: list[Entry]) -> Outcome:
        if self.config is None:
            await self.load_config()
        tz = (self.config or {}).get("tz") or "UTC"
        keyed: list[tuple[str, Entry]] = []
        targets: dict[str, list[tuple[str, str]]] = {}
        for entry in batch:
            key = self.call_keys.key(entry)  # learnt from every event, selected or not
            if entry.headers.get("Event") == "Cdr" and (warning := self.tz_check.check(entry, tz)):
                await self.status.set(tz_warning=warning)
            if found := self.events_map.targets(entry):
                targets[entry.id] = found
                keyed.append((key, entry))
        # Entries no map route selects are acked without a call: they are not for Odoo.
        lanes = split(keyed, self.settings.odoo_concurrency)
        if len(lanes) <= 1:
            return await self.deliver(_groups(lanes[0] if lanes else [], targets))
        results = await asyncio.gather(
            *(self.deliver(_groups(lane, targets)) for lane in lanes), return_exceptions=True
        )
        outcome = Outcome()
        for lane, result in zip(lanes, results, strict=True):
            if isinstance(result, BaseException):
                if not isinstance(result, Exception):
                    raise result
                # This lane's calls come again; the other lanes' are done and acked.
                error = f"{type(result).__name__}: {result}"
                self.log.warning(
                    "lane failed, its entries will be delivered again",
                    count=len(lane),
                    error=error,
                    stream=lane[0].stream,
                    entry=lane[0].id,
                )
                outcome.retry.update({e.id: error for e in lane})
            else:
                outcome.retry.update(result.retry)
                outcome.reject.update(result.reject)
        return outcome

    async def handle_to_odoo(self, batch: list[Entry]) -> Outcome:
        groups: dict[tuple[str, str], list[Entry]] = {}
        unknown = Outcome()
        for entry in batch:
            route = TO_ODOO_ROUTES.get(entry.type)
            if route is None:
                unknown.reject[entry.id] = f"no Odoo route for @type {entry.type!r}"
            else:
                groups.setdefault(route, []).append(entry)
        outcome = await self.deliver(groups)
        outcome.reject.update(unknown.reject)
        return outcome

    async def handle_commands(self, batch: list[Entry]) -> Outcome:
        outcome = Outcome()
        handlers: dict[str, Callable[[Entry], Awaitable[None]]] = {
            "test": self._test,
            "events_map.changed": self._map_changed,
            "conf.plan": self._conf_plan,
        }
        for entry in batch:
            handler = handlers.get(entry.type)
            if handler is None:
                outcome.reject[entry.id] = f"unknown bridge command {entry.type!r}"
                continue
            try:
                await handler(entry)
            except OdooRefused as exc:
                await self.bus.reply(entry, ok=False, error=f"Odoo refused: {exc}")
        return outcome

    async def _test(self, entry: Entry) -> None:
        started = time.monotonic()
        result = await self.call(SERVER_MODEL, "bridge_ping", self.bus.server, entry.msg_id)
        ms = round((time.monotonic() - started) * 1000, 1)
        await self.bus.reply(
            entry,
            {
                "Message": f"Odoo -> bus -> bridge -> Odoo in {ms} ms",
                "Login": result.get("login", ""),
                "Database": result.get("db", ""),
            },
        )

    async def _map_changed(self, entry: Entry) -> None:
        await self.load_config()

    async def _conf_plan(self, entry: Entry) -> None:
        await self.load_config()
        config = self.config or {}
        plan = {k: config.get(k) for k in ("initial_update_done", "update_direction", "sync_at_start")}
        if config.get("update_direction") == "odoo_to_asterisk" and config.get("initial_update_done"):
            # Odoo hands its files (secrets included) only to a conf.plan it finds on the bus.
            request = {"@entry": entry.id, "@id": entry.msg_id}
            plan["files"] = await self.call(
                "asterisk_plus.conf", "bridge_get_files", self.bus.server, False, request
            )
        await self.bus.reply(entry, payload=plan)

    async def run(self, stop: asyncio.Event) -> None:
        self._stop = stop
        heartbeat = asyncio.create_task(self.status.heartbeat(stop))
        sessions = await self.odoo.connect_all()
        self.log.info("Odoo sessions logged in", sessions=sessions, of=len(self.odoo.clients))
        try:
            await self.load_config()
        except OdooDown:
            pass  # stopped before Odoo came
        if not stop.is_set():
            consumer = Consumer(
                self.bus,
                GROUP,
                {
                    keys.commands(GROUP): self.handle_commands,
                    keys.TO_ODOO: self.handle_to_odoo,
                    keys.EVENTS: self.handle_events,
                    keys.ODOO_REPLIES: self.replies.handle,
                },
                # A batch is cut into up to ODOO_CONCURRENCY lanes: each gets about ODOO_BATCH entries.
                batch=self.settings.odoo_batch * max(1, self.settings.odoo_concurrency),
            )
            # Recordings on a consumer of their own: a few chunks per call, each up to RECORDINGS_CHUNK_BYTES.
            recordings = Consumer(
                self.bus,
                GROUP,
                {keys.RECORDINGS: self.recordings.handle},
                batch=self.settings.odoo_recordings_batch,
                on_dead=self.recordings.on_dead,
            )
            await asyncio.gather(consumer.run(stop), recordings.run(stop))
        await heartbeat


def _groups(
    entries: list[Entry], targets: dict[str, list[tuple[str, str]]]
) -> dict[tuple[str, str], list[Entry]]:
    """One list per Odoo (model, method), in stream order."""
    groups: dict[tuple[str, str], list[Entry]] = {}
    for entry in entries:
        for target in targets[entry.id]:
            groups.setdefault(target, []).append(entry)
    return groups
