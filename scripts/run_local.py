"""`make run`: the whole Agent on this machine.

With nothing configured it runs on an embedded default: a Redis (the one on 127.0.0.1:6379 if it answers,
else its own redis-server), the AMI peer replaying calls and attacks in place of Asterisk, the Odoo JSON-RPC
peer in place of Odoo, and every service against them. Set AMI_HOST (and AMI_USER/AMI_SECRET) to use a real
Asterisk, ODOO_URL (and ODOO_DB/ODOO_USER/ODOO_PASSWORD) to use a real Odoo. Ctrl-C stops everything.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

from peers.local_redis import free_port, server_args, wait_for_port
from services.bus import BusSettings, Keys, connect_redis_sync

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
COLORS = ["36", "32", "35", "33", "34", "31", "37", "96", "92"]


def exists(module: str) -> bool:
    return (ROOT / module.replace(".", "/") / "__main__.py").exists()


class Stack:
    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.workdir = Path(tempfile.mkdtemp(prefix="pbx-agent-run-"))

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        color = COLORS[len(self.procs) % len(COLORS)]
        # Each line prefixed with the process name, so the interleaved logs stay readable.
        prefix = f"\033[{color}m{name:>12}\033[0m | "
        proc = subprocess.Popen(
            ["bash", "-c", 'exec "$@" 2>&1 | sed -u "s/^/$PREFIX/"', "run", *args],
            cwd=ROOT,
            env={**os.environ, **env, "PREFIX": prefix.replace("/", r"\/")},
            start_new_session=True,
        )
        self.procs.append((name, proc))
        return proc

    def stop(self) -> None:
        for _name, proc in reversed(self.procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for _name, proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(self.workdir, ignore_errors=True)


# Every service `pbx doctor` expects to have reported.
SERVICES = ("ami_gateway", "odoo_bridge", "guard", "conf_sync", "console", "phonebook", "recordings")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    # A SIGTERM (docker stop, kill, a supervisor) stops the stack as Ctrl-C does, children included.
    signal.signal(signal.SIGTERM, _interrupt)
    stack = Stack()
    env: dict[str, str] = {"AGENT_SERVER": os.environ.get("AGENT_SERVER", "asterisk1")}
    try:
        redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
        try:
            connect_redis_sync(BusSettings(redis_url=redis_url), socket_timeout=1).ping()
            print(f"Redis: using {redis_url}")
        except redis.RedisError:
            port = free_port()
            stack.start("redis", server_args(port, stack.workdir, appendonly=True), {})
            wait_for_port(port, "redis-server")
            redis_url = f"redis://127.0.0.1:{port}/0"
            print(f"Redis: started its own at {redis_url}")
        env["REDIS_URL"] = redis_url
        # Keys of this run apart from anything else in that Redis.
        env["PBX_PREFIX"] = os.environ.get("PBX_PREFIX", "pbx")

        if os.environ.get("AMI_HOST"):
            print(f"Asterisk: {os.environ['AMI_HOST']}:{os.environ.get('AMI_PORT', '5038')}")
        else:
            ami_port = free_port()
            stack.start(
                "ami-peer",
                [
                    PY,
                    "-m",
                    "peers.ami_peer",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(ami_port),
                    "--user",
                    "admin",
                    "--secret",
                    "admin",
                    "--scenario",
                    "demo",
                    "--recordings-dir",
                    str(stack.workdir / "monitor"),
                ],
                {},
            )
            wait_for_port(ami_port, "the AMI peer")
            env.update(AMI_HOST="127.0.0.1", AMI_PORT=str(ami_port), AMI_USER="admin", AMI_SECRET="admin")
            print(f"Asterisk: the AMI peer on 127.0.0.1:{ami_port} (demo calls and attacks)")

        if os.environ.get("ODOO_URL"):
            print(f"Odoo: {os.environ['ODOO_URL']}")
        elif exists("peers.odoo_peer"):
            odoo_port = free_port()
            stack.start("odoo-peer", [PY, "-m", "peers.odoo_peer", "--port", str(odoo_port)], {})
            wait_for_port(odoo_port, "the Odoo peer")
            env.update(ODOO_URL=f"http://127.0.0.1:{odoo_port}", ODOO_DB="demo")
            print(f"Odoo: the JSON-RPC peer on 127.0.0.1:{odoo_port}")

        conf_dir = os.environ.get("ASTERISK_CONF_DIR")
        if not conf_dir and (ROOT / "peers" / "sample_asterisk_conf").exists():
            conf_dir = str(stack.workdir / "asterisk")
            shutil.copytree(ROOT / "peers" / "sample_asterisk_conf", conf_dir)
        if conf_dir:
            env.update(ASTERISK_CONF_DIR=conf_dir, CONF_BACKUP_DIR=str(stack.workdir / "conf-backups"))
        recordings = os.environ.get("RECORDINGS_DIR") or str(stack.workdir / "monitor")
        Path(recordings).mkdir(parents=True, exist_ok=True)
        env.update(RECORDINGS_DIR=recordings, RECORDINGS_SPOOL_DIR=str(stack.workdir / "recordings-spool"))
        env.setdefault("GUARD_BACKEND", os.environ.get("GUARD_BACKEND", "log"))
        console_port = int(os.environ.get("CONSOLE_PORT", "48001"))
        env["CONSOLE_PORT"] = str(console_port)
        # On this machine only, unless asked otherwise: the desk phones' phonebook is for the PBX's network.
        env["PHONEBOOK_HOST"] = os.environ.get("PHONEBOOK_HOST", "127.0.0.1")

        # A disabled console exits at once, which would end the whole run: it is not started at all.
        console = os.environ.get("CONSOLE_DISABLED", "").lower() not in ("yes", "true", "1")
        for service in SERVICES:
            if exists(f"services.{service}") and (service != "console" or console):
                stack.start(service, [PY, "-m", f"services.{service}"], env)

        if console and exists("services.console"):
            wait_for_port(console_port, "the console")
            token = secrets.token_urlsafe(24)
            settings = BusSettings(
                redis_url=redis_url, pbx_prefix=env["PBX_PREFIX"], agent_server=env["AGENT_SERVER"]
            )
            client = connect_redis_sync(settings)
            key = Keys.of(settings).key(f"console:token:{token}")
            client.set(
                key,
                json.dumps(
                    {"uid": 2, "login": "admin", "server": env["AGENT_SERVER"], "exp": time.time() + 600}
                ),
                ex=600,
            )
            print(
                f"\nConsole (one-time link, valid 10 min): http://127.0.0.1:{console_port}/?token={token}\n"
            )
        stack.start("events", [str(ROOT / ".venv" / "bin" / "pbx"), "tail", "events", "--brief"], env)
        print("Watch the bus:  .venv/bin/pbx streams   |   .venv/bin/pbx tail events   |   Ctrl-C to stop\n")
        while all(proc.poll() is None for _, proc in stack.procs):
            time.sleep(0.5)
        dead = [name for name, proc in stack.procs if proc.poll() is not None]
        print(f"stopped: {', '.join(dead)} exited")
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
