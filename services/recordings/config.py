"""recordings settings (environment variables)."""

from __future__ import annotations

from pydantic import field_validator

from services.bus import BusSettings

# MP3 bitrates LAME knows (MPEG-1, 2 and 2.5 together); it picks the output sample rate that fits.
MP3_KBPS = (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)


class RecordingsSettings(BusSettings):
    # The recordings directory as this service sees it (mounted from the Asterisk machine).
    recordings_dir: str = "/var/spool/asterisk/monitor"
    # The same directory as Asterisk names it in MIXMONITOR_FILENAME, when mounted elsewhere ("" = the same).
    recordings_asterisk_dir: str = ""
    # MP3s being sent, so a restart resumes a send instead of encoding again.
    recordings_spool_dir: str = "/var/lib/pbx-agent/recordings-spool"
    # Days a WAV is kept on Asterisk once Odoo has it; 0 deletes it at once.
    recordings_keep_days: float = 0.0
    recordings_mp3_kbps: int = 24
    # LAME's algorithm quality, 0 (best, slowest) to 9 (fastest).
    recordings_mp3_quality: int = 5
    # A recording travels in chunks of at most this many bytes, each its own stream entry.
    recordings_chunk_bytes: int = 262_144
    # Chunk bytes the bridge has not yet delivered beyond which the service waits (bounds Redis's memory).
    recordings_window_bytes: int = 16_777_216
    # How often the directory is scanned (files the events did not announce), retention and timeouts applied.
    recordings_scan_interval_s: float = 30.0
    # A WAV whose header Asterisk has completed is taken once it has been still this long.
    recordings_settle_s: float = 2.0
    # A WAV untouched this long is finished whatever its header says (reported if Asterisk never closed it).
    recordings_stale_s: float = 3600.0
    # No verdict from Odoo this long after a recording was sent, and the bridge done with it: send again.
    recordings_verdict_timeout_s: float = 900.0
    # Sends of one recording without a verdict before it is given up (kept on disk, reported in the log).
    recordings_max_sends: int = 3
    # The Uniqueid in a file name, for files no MixMonitor event announced (first group of the first match).
    recordings_uniqueid_pattern: str = r"(\d{6,}\.\d+)"

    @field_validator("recordings_mp3_kbps")
    @classmethod
    def _kbps(cls, value: int) -> int:
        if value not in MP3_KBPS:
            raise ValueError(f"must be one of {MP3_KBPS}")
        return value

    @field_validator("recordings_mp3_quality")
    @classmethod
    def _quality(cls, value: int) -> int:
        if not 0 <= value <= 9:
            raise ValueError("must be 0 to 9")
        return value

    @field_validator("recordings_chunk_bytes")
    @classmethod
    def _chunk(cls, value: int) -> int:
        if not 1024 <= value <= 4_194_304:
            raise ValueError("must be 1 KiB to 4 MiB")
        return value
