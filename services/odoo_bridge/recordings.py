"""Recordings to Odoo (docs/odoo-api.md, "Recordings"): the `recordings` stream's chunks and summaries, a few
entries per call (ODOO_RECORDINGS_BATCH, as each chunk is up to RECORDINGS_CHUNK_BYTES), and Odoo's verdict on
each summary back to the recordings service, which deletes a WAV only once Odoo has it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.bus import Entry, Outcome

if TYPE_CHECKING:
    from .bridge import Bridge

MODEL = "asterisk_plus.recording"
CHUNKS = (MODEL, "bridge_on_chunks")
SUMMARIES = (MODEL, "bridge_on_recordings")


class RecordingsRoute:
    def __init__(self, bridge: Bridge) -> None:
        self.bridge = bridge

    async def handle(self, batch: list[Entry]) -> Outcome:
        outcome = Outcome()
        chunks = [e for e in batch if e.type == "recording.chunk"]
        summaries = [e for e in batch if e.type == "recording"]
        for entry in batch:
            if entry.type not in ("recording.chunk", "recording"):
                outcome.reject[entry.id] = f"no Odoo route for @type {entry.type!r}"
        waiting: set[str] = set()
        if chunks:
            sent = await self.bridge.deliver({CHUNKS: chunks})
            outcome.retry.update(sent.retry)
            outcome.reject.update(sent.reject)
            # A summary goes after all its chunks: Odoo assembles the recording when it gets the summary.
            waiting = {e.get("recording") for e in chunks if e.id in sent.retry}
        ready = []
        for entry in summaries:
            if entry.msg_id in waiting:
                outcome.retry[entry.id] = "its chunks are not delivered yet"
            else:
                ready.append(entry)
        if ready:
            sent = await self.bridge.deliver({SUMMARIES: ready})
            outcome.retry.update(sent.retry)
            outcome.reject.update(sent.reject)
            for entry in ready:
                # A refused summary gets its verdict when dead-lettered (on_dead): once, with the reason.
                if entry.id not in sent.retry and entry.id not in sent.reject:
                    await self.verdict(entry, "")
        return outcome

    async def on_dead(self, items: list[tuple[Entry, str]]) -> None:
        for entry, error in items:
            if entry.type == "recording":
                await self.verdict(entry, error or "rejected")

    async def verdict(self, entry: Entry, error: str) -> None:
        if not entry.reply_to:
            return
        await self.bridge.bus.publish(
            entry.reply_to,
            {"Result": "rejected" if error else "stored"},
            type="recording.verdict",
            id=entry.msg_id,
            status="error" if error else "ok",
            error=error or None,
            entry=entry.id,
        )
