"""conf_sync: Asterisk's .conf files <-> Odoo, as the server form's buttons and "Server startup" define."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from services.bus import (
    Bus,
    Consumer,
    Entry,
    Log,
    Outcome,
    Requester,
    RequestTimeout,
    Status,
    keys,
    new_request_id,
    sleep,
)

from .config import ConfSyncSettings
from .files import ConfDir, ConfError, ConfFile, Rules, check_upload, parse_upload

GROUP = "conf_sync"


class ConfSync:
    def __init__(self, settings: ConfSyncSettings, bus: Bus) -> None:
        self.settings = settings
        self.bus = bus
        self.dir = ConfDir(
            settings.asterisk_conf_dir,
            settings.conf_backup_dir,
            settings.conf_backup_keep,
            settings.conf_max_bytes,
        )
        configured = os.path.normpath(os.path.abspath(settings.asterisk_conf_dir))
        self.rules = Rules(
            max_bytes=settings.conf_max_bytes,
            max_files=settings.conf_max_files,
            max_total_bytes=settings.conf_max_upload_bytes,
            allow_exec=settings.conf_allow_exec,
            allow_include_outside=settings.conf_allow_include_outside,
            conf_dirs=tuple(dict.fromkeys((configured, str(self.dir.root)))),
        )
        self.log = Log("conf_sync", server=bus.server, dir=str(self.dir.root))
        self.status = Status(bus, "conf_sync")
        self.requester = Requester(bus, f"conf_sync.{bus.server}")
        self.lock = asyncio.Lock()  # one upload or download at a time: never a mix of two versions
        self.direction = ""
        self._written: dict[str, tuple[float, int]] = {}
        self.last_sync = float("-inf")

    # -- the two directions ---------------------------------------------------------------------------------

    async def send_to_odoo(self, mode: str, request: Entry | None = None) -> int:
        files = await asyncio.to_thread(self.dir.read_all)
        who = _who(request)
        batch = new_request_id()
        for f in files:
            # Each file is its own item for Odoo: its own @id (the dedupe key), the request in @request.
            meta = {**who, "id": f"{who.get('id') or batch}:{f.name}", "request": who.get("id", "")}
            payload = {"name": f.name, "content": f.content, "mode": mode}
            await self.bus.publish(keys.TO_ODOO, None, type="conf.file", payload=payload, **meta)
        self.log.info("files sent to Odoo", count=len(files), mode=mode)
        return len(files)

    async def write_from_odoo(self, raw_files: Any, reload: bool) -> tuple[list[str], str]:
        files = check_upload(raw_files, self.rules)  # all valid, or nothing written
        changed = []
        for f in files:
            if await asyncio.to_thread(self.dir.write, f):
                changed.append(f.name)
        self._written = await asyncio.to_thread(self.dir.snapshot)
        reload_result = ""
        if reload:
            try:
                reply = await self.requester.request(
                    keys.ACTIONS, {"Action": "Reload"}, timeout=self.settings.conf_request_timeout_s
                )
                ok = reply.meta.get("status") == "ok"
                reload_result = "Asterisk reloaded" if ok else f"reload failed: {reply.meta.get('error')}"
            except RequestTimeout:
                reload_result = "reload not confirmed: the gateway did not answer"
        self.log.info("files written from Odoo", changed=len(changed), total=len(files), reload=reload_result)
        return changed, reload_result

    # -- handlers -------------------------------------------------------------------------------------------

    async def handle_commands(self, batch: list[Entry]) -> Outcome:
        for entry in batch:
            log = self.log.bind(stream=entry.stream, entry=entry.id)
            async with self.lock:
                try:
                    if entry.type == "upload":
                        files, reload = parse_upload(entry.meta.get("json"))
                        changed, reloaded = await self.write_from_odoo(files, reload)
                        summary = f"{len(changed)} file(s) changed on Asterisk" + (
                            f"; {reloaded}" if reloaded else ""
                        )
                        await self._result(entry, True, summary)
                    elif entry.type == "download":
                        n = await self.send_to_odoo("overwrite", entry)
                        await self._result(entry, True, f"{n} file(s) sent to Odoo")
                    elif entry.type == "sync":
                        await self.sync_at_start("requested")
                    else:
                        await self._result(entry, False, f"unknown conf_sync command {entry.type!r}")
                except ConfError as exc:
                    log.error("upload refused, nothing written", error=str(exc))
                    await self._result(entry, False, f"upload refused, nothing written: {exc}")
                except OSError as exc:
                    log.error("file operation failed", error=str(exc))
                    await self._result(entry, False, f"file operation failed: {exc}")
        return Outcome()

    async def _result(self, request: Entry, ok: bool, message: str) -> None:
        # Odoo shows it to the user who asked (@uid); a requester with a stream of its own gets it there too.
        await self.bus.publish(
            keys.TO_ODOO,
            {"Message": message},
            type="conf.result",
            status="ok" if ok else "error",
            error="" if ok else message,
            request_type=request.type,
            **_who(request),
        )
        if request.reply_to.startswith("replies:"):
            await self.bus.reply(request, {"Message": message}, ok=ok, error="" if ok else message)

    async def handle_events(self, batch: list[Entry]) -> None:
        # The agent's own start and the gateway's first login come together: one sync covers both.
        if (
            any(e.get("Event") == "FullyBooted" for e in batch)
            and time.monotonic() - self.last_sync > self.settings.conf_boot_grace_s
        ):
            await self.sync_at_start("Asterisk started (FullyBooted)")

    async def sync_at_start(self, why: str) -> None:
        """The initial update, or the update direction, as the seed's "Server startup" says."""
        self.last_sync = time.monotonic()
        try:
            plan_reply = await self.requester.request(
                keys.commands("odoo_bridge"),
                None,
                type="conf.plan",
                timeout=self.settings.conf_request_timeout_s,
            )
        except RequestTimeout:
            self.log.warning("no sync at start: the bridge did not answer (is odoo_bridge running?)", why=why)
            return
        plan = plan_reply.json() or {}
        self.direction = plan.get("update_direction") or ""
        if not plan.get("sync_at_start", True):
            self.log.info("sync at start is off for this server", why=why)
            return
        async with self.lock:
            if not plan.get("initial_update_done"):
                n = await self.send_to_odoo("keep_existing")
                await self.bus.publish(
                    keys.TO_ODOO, {"Message": f"initial update: {n} file(s) sent"}, type="conf.initial_done"
                )
                self.log.info("initial update done", files=n, why=why)
            elif self.direction == "odoo_to_asterisk":
                try:
                    changed, _ = await self.write_from_odoo(plan.get("files") or [], reload=True)
                    self.log.info("Odoo's files written at start", changed=len(changed), why=why)
                except ConfError as exc:
                    self.log.error("Odoo's files refused at start, nothing written", error=str(exc))
            elif self.direction == "asterisk_to_odoo":
                await self.send_to_odoo("overwrite")

    async def watch(self, stop: asyncio.Event) -> None:
        """Asterisk -> Odoo: files changed by another tool reach Odoo once they have been still a moment."""
        seen = await asyncio.to_thread(self.dir.snapshot)
        changed_at: dict[str, float] = {}
        while not stop.is_set():
            await sleep(self.settings.conf_watch_interval_s, stop)
            now_snap = await asyncio.to_thread(self.dir.snapshot)
            now = time.monotonic()
            for name, stat in now_snap.items():
                if seen.get(name) != stat and self._written.get(name) != stat:
                    changed_at[name] = now
            seen = now_snap
            if self.direction != "asterisk_to_odoo":
                changed_at.clear()
                continue
            ready = [n for n, t in changed_at.items() if now - t >= self.settings.conf_debounce_s]
            for name in ready:
                del changed_at[name]
                files = [f for f in await asyncio.to_thread(self.dir.read_all) if f.name == name]
                for f in files:
                    await self.bus.publish(
                        keys.TO_ODOO,
                        None,
                        type="conf.file",
                        id=f"watch:{new_request_id()}",
                        payload={"name": f.name, "content": f.content, "mode": "overwrite"},
                    )
                    self.log.info("changed file sent to Odoo", file=f.name)

    async def run(self, stop: asyncio.Event) -> None:
        consumer = Consumer(
            self.bus,
            GROUP,
            {keys.commands(GROUP): self.handle_commands, keys.EVENTS: self.handle_events},
            start_id="$",
        )
        # The groups exist before we say ready: a command sent from then on is never skipped.
        await consumer.ensure_groups()
        await self.requester.start()
        await self.status.set(ready=1, conf_dir=str(self.dir.root))
        tasks = [asyncio.create_task(self.status.heartbeat(stop)), asyncio.create_task(self.watch(stop))]
        await self.sync_at_start("agent started")
        await consumer.run(stop)
        await asyncio.gather(*tasks)
        await self.requester.close()


def _who(request: Entry | None) -> dict[str, str]:
    if request is None:
        return {}
    return {k: request.meta[k] for k in ("id", "uid", "user") if k in request.meta}


__all__ = ["ConfFile", "ConfSync"]
