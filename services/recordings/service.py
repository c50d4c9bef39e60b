"""recordings: each finished MixMonitor WAV, as MP3, to Odoo as an attachment of its call; then deleted (or
kept RECORDINGS_KEEP_DAYS).

How a file is known to be finished: the events (its channel's Hangup) and a scan of the directory, both
checked against the WAV header Asterisk completes when it closes the file (services/recordings/wav.py).
Every step's result is in Redis before the next starts (services/recordings/state.py), so a restart, even
after kill -9, resumes where the last one stopped.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from datetime import UTC, datetime
from pathlib import Path

from services.bus import REDIS_DOWN, Bus, Consumer, Entry, Log, Outcome, StateLog, Status, keys, sleep

from .config import RecordingsSettings
from .encode import encode_mp3, file_key
from .events import EventReader
from .scan import Scanner
from .sender import VERDICTS, Sender, resend
from .state import ENCODED, REJECTED, REPORTED, SENT, STORED, WAITING, FileState, Store
from .wav import Action, judge, read_header

GROUP = "recordings"
MAX_BACKOFF_S = 60.0
DELETABLE = (
    "ok",
    "empty",
)  # what is deleted (or kept N days) once Odoo has it; other reports stay for a person


class Recordings:
    def __init__(self, settings: RecordingsSettings, bus: Bus) -> None:
        self.settings = settings
        self.bus = bus
        self.dir = Path(settings.recordings_dir)
        self.spool = Path(settings.recordings_spool_dir)
        self.log = Log("recordings", server=bus.server, dir=str(self.dir))
        self.store = Store(bus)
        self.sender = Sender(
            bus, self.store, settings.recordings_chunk_bytes, settings.recordings_window_bytes
        )
        self.events = EventReader(
            self.store, (settings.recordings_asterisk_dir, settings.recordings_dir), self.log
        )
        self.status = Status(bus, "recordings")
        self.dir_state = StateLog(self.log, "recordings directory")
        self.uniqueid = re.compile(settings.recordings_uniqueid_pattern)
        self.wake = asyncio.Event()
        self.counters = {"stored": 0, "reported": 0, "rejected": 0}
        self.scanner = Scanner(self)

    # -- one file -------------------------------------------------------------------------------------------

    def spool_file(self, path: str) -> Path:
        return self.spool / (hashlib.sha256(path.encode()).hexdigest()[:32] + ".mp3")

    async def process(self, path: str, stop: asyncio.Event) -> None:
        """Take one queued file as far as it goes: look, encode, send; or put it back for later."""
        now = time.time()
        state = await self.store.get(path)
        if state is None:
            match = self.uniqueid.search(Path(path).name)
            state = FileState(path, found=now, uniqueid=match.group(1) if match else "")
        log = self.log.bind(file=path)
        if state.stage == WAITING:
            link = await self.store.link(path)
            state.uniqueid = link.get("uniqueid") or state.uniqueid
            state.linkedid = link.get("linkedid") or state.linkedid
            state.channel = link.get("channel") or state.channel
            state.ended = bool(link.get("ended")) or state.ended
            if not await self._prepare(state, now, log):
                return
        if state.stage == ENCODED:
            spool = self.spool_file(path) if state.chunks else None
            if spool is not None and not spool.exists():
                log.warning("its MP3 is gone from the spool: encoding it again")
                resend(state, spool_exists=False)
                await self.store.put(state)
                await self.store.enqueue(path, now)
                return
            if await self.sender.send(state, spool, stop):
                log.info("sent", status=state.status, chunks=state.chunks, bytes=state.size, key=state.key)
            return
        await self.bus.redis.zrem(self.store.queue, path)  # sent or done already

    async def _unreadable(self, state: FileState, now: float, log: Log, exc: OSError) -> bool:
        """A file gone before it was sent is forgotten; one that cannot be read is tried again later."""
        if isinstance(exc, FileNotFoundError):
            log.info("the file is gone before it was sent: forgotten")
            await self.store.forget(state.path)
            return False
        return await self._later(state, now, log, f"cannot read it: {exc}")

    async def _prepare(self, state: FileState, now: float, log: Log) -> bool:
        """Judge the file; encode it or make its report. False when there is nothing to send yet."""
        source = self.dir / state.path
        try:
            wav = await asyncio.to_thread(read_header, source)
        except OSError as exc:
            return await self._unreadable(state, now, log, exc)
        s = self.settings
        decision = judge(
            wav, ended=state.ended, now=now, settle_s=s.recordings_settle_s, stale_s=s.recordings_stale_s
        )
        if decision.action is Action.WAIT:
            return await self._later(state, now, log, retry_in=decision.retry_in)
        state.status, state.reason = decision.status, decision.why
        state.recorded_at = datetime.fromtimestamp(wav.mtime, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        try:
            if decision.action is Action.ENCODE:
                encoded = await asyncio.to_thread(
                    encode_mp3,
                    source,
                    state.path,
                    wav,
                    decision.nbytes,
                    self.spool_file(state.path),
                    s.recordings_mp3_kbps,
                    s.recordings_mp3_quality,
                )
                state.key, state.sha256, state.size = encoded.key, encoded.sha256, encoded.size
                state.duration = encoded.duration
                state.chunks = -(-encoded.size // s.recordings_chunk_bytes)
            else:
                state.key = await asyncio.to_thread(file_key, source, state.path)
                state.chunks = state.size = 0
                log.warning("reported, not encoded", status=state.status, reason=state.reason)
        except OSError as exc:
            return await self._unreadable(state, now, log, exc)
        except Exception as exc:  # the encoder refused the audio: reported, never tried again
            state.status, state.reason, state.chunks, state.size = "invalid", f"encoder failed: {exc}", 0, 0
            state.key = await asyncio.to_thread(file_key, source, state.path)
        state.stage, state.sent = ENCODED, 0
        await self.store.put(state)
        return True

    async def _later(
        self, state: FileState, now: float, log: Log, error: str = "", retry_in: float = 0.0
    ) -> bool:
        """Look again later: when the file will have settled, else backing off up to a minute."""
        if retry_in > 0:
            delay = retry_in
        else:
            state.checks += 1
            delay = min(self.settings.recordings_settle_s * 2 ** min(state.checks - 1, 10), MAX_BACKOFF_S)
        if error:
            log.error("looked at later", error=error, retry_in_s=round(delay, 1))
        await self.store.put(state)
        await self.store.enqueue(state.path, now + max(delay, 0.05))
        return False

    # -- Odoo's verdicts ------------------------------------------------------------------------------------

    async def handle_verdicts(self, batch: list[Entry]) -> Outcome:
        outcome = Outcome()
        for entry in batch:
            if entry.type != "recording.verdict":
                outcome.reject[entry.id] = f"unknown recordings command {entry.type!r}"
                continue
            path = await self.bus.redis.hget(self.store.keys, entry.msg_id)
            state = await self.store.get(path) if path else None
            if state is None or state.stage != SENT or state.key != entry.msg_id:
                continue  # a repeated verdict
            await self._verdict(state, entry)
        return outcome

    async def _verdict(self, state: FileState, entry: Entry) -> None:
        log = self.log.bind(file=state.path, stream=entry.stream, entry=entry.id, key=state.key)
        state.done_at = time.time()
        self.spool_file(state.path).unlink(missing_ok=True)
        if entry.meta.get("status") != "ok":
            state.stage, state.reason = REJECTED, entry.meta.get("error") or "rejected"
            await self.store.finish(state, None)
            self.counters["rejected"] += 1
            log.error("Odoo refused the recording: the WAV is kept", error=state.reason)
            return
        state.stage = STORED if state.status == "ok" else REPORTED
        self.counters["stored" if state.status == "ok" else "reported"] += 1
        if state.status not in DELETABLE:
            await self.store.finish(state, None)
            log.info("report taken by Odoo: the WAV is kept", status=state.status)
            return
        keep_s = self.settings.recordings_keep_days * 86400
        if keep_s <= 0:
            await self.delete(state)
            log.info("in Odoo: WAV deleted", status=state.status)
        else:
            await self.store.finish(state, state.done_at + keep_s)
            log.info("in Odoo: WAV kept", status=state.status, days=self.settings.recordings_keep_days)

    async def delete(self, state: FileState) -> None:
        await asyncio.to_thread((self.dir / state.path).unlink, missing_ok=True)
        await self.store.forget(state.path, state.key)

    # -- loops ----------------------------------------------------------------------------------------------

    async def handle_events(self, batch: list[Entry]) -> None:
        if await self.events.handle(batch):
            self.wake.set()

    async def work(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            path = None
            try:
                self.wake.clear()
                path, next_at = await self.store.due(time.time())
                if path is None:
                    wait = 1.0 if next_at is None else min(max(next_at - time.time(), 0.01), 1.0)
                    try:
                        await asyncio.wait_for(self.wake.wait(), wait)
                    except TimeoutError:
                        pass
                    continue
                await self.process(path, stop)
            except REDIS_DOWN as exc:
                self.log.warning("Redis unreachable, retrying", error=str(exc))
                await sleep(1.0, stop)
            except Exception:
                self.log.exception("recording failed, looked at again in a minute", file=path or "")
                if path:
                    await self.store.enqueue(path, time.time() + MAX_BACKOFF_S)

    async def scan(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.scanner.scan_once()
            except REDIS_DOWN as exc:
                self.log.warning("Redis unreachable, retrying", error=str(exc))
            await sleep(self.settings.recordings_scan_interval_s, stop)

    async def run(self, stop: asyncio.Event) -> None:
        await asyncio.to_thread(self.spool.mkdir, parents=True, exist_ok=True)
        consumer = Consumer(
            self.bus,
            GROUP,
            {keys.EVENTS: self.handle_events, VERDICTS: self.handle_verdicts},
            start_id="$",
        )
        # The groups exist before anything is sent: no verdict and no Hangup from then on is missed.
        await consumer.ensure_groups()
        await self.status.set(ready=0, reason="starting", dir=str(self.dir))
        tasks = [
            asyncio.create_task(self.status.heartbeat(stop)),
            asyncio.create_task(self.scan(stop)),
            asyncio.create_task(self.work(stop)),
        ]
        await consumer.run(stop)
        self.wake.set()
        await asyncio.gather(*tasks)
