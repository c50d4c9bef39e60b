"""conf_sync settings (environment variables)."""

from __future__ import annotations

from services.bus import BusSettings


class ConfSyncSettings(BusSettings):
    asterisk_conf_dir: str = "/etc/asterisk"
    conf_backup_dir: str = "/var/lib/pbx-agent/conf-backups"
    conf_backup_keep: int = 10
    conf_max_bytes: int = 1_048_576
    conf_max_files: int = 500
    conf_max_upload_bytes: int = 8_388_608
    # #exec and execincludes=yes run programs on the Asterisk host at each reload; #include outside the conf
    # directory copies any readable file into a configuration Odoo can download. Off unless a site needs it.
    conf_allow_exec: bool = False
    conf_allow_include_outside: bool = False
    conf_watch_interval_s: float = 1.0
    conf_debounce_s: float = 2.0
    conf_request_timeout_s: float = 30.0
    # A FullyBooted this soon after a sync (the gateway's first login at the agent's start) adds nothing.
    conf_boot_grace_s: float = 5.0
