"""The compose stack runs for real: compose/compose.yaml + compose/compose.test.yaml in Podman containers.

scripts/podman-stack.sh builds the agent image and Redis from a local Debian base (debootstrap, cached in
/var/tmp), then brings up Redis, every agent service, and the AMI and Odoo peers in place of Asterisk and
Odoo. The tests see calls, bans and conf files reach the Odoo peer, run every health check, read the
console's published port, and kill -9 a service's process: Podman's restart policy (`unless-stopped`)
brings the container back and events keep reaching the Odoo peer. Everything is removed at the end.

Skipped only where containers cannot run: not root (rootful Podman, debootstrap) or no Podman
(scripts/system-deps.sh test installs it on Debian as root).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from peers.local_redis import free_port

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "podman-stack.sh"
AGENT_SERVICES = ("ami_gateway", "odoo_bridge", "conf_sync", "guard", "console", "phonebook", "recordings")
PEERS = ("ami_peer", "odoo_peer")
# First run on a new machine: debootstrap (~1 min) and two image builds (~2 min); later runs: seconds.
pytestmark = pytest.mark.timeout(1200)


def cannot_run() -> str | None:
    if os.geteuid() != 0:
        return "containers cannot run here: rootful Podman and debootstrap need root"
    if not shutil.which("podman"):
        return "containers cannot run here: no podman (`scripts/system-deps.sh test` installs it as root)"
    base = subprocess.run(["podman", "image", "exists", "localhost/debian:bookworm-min"], capture_output=True)
    if base.returncode != 0 and not shutil.which("debootstrap"):
        return "no Debian base image and no debootstrap to make one (`scripts/system-deps.sh test`)"
    return None


@dataclass
class Stack:
    env: dict[str, str]
    project: str
    records: Path
    console_port: int
    recordings: Path

    def run(self, *args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(SCRIPT), *args], env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if check and result.returncode != 0:
            pytest.fail(
                f"{' '.join(args)}: exit {result.returncode}\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
            )
        return result

    def podman(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run("podman", *args, timeout=60, check=check)

    def container(self, service: str) -> str:
        return f"{self.project}_{service}_1"

    def inspect(self, service: str) -> dict[str, Any]:
        return json.loads(self.podman("inspect", self.container(service)).stdout)[0]

    def logs(self, service: str) -> str:
        result = self.podman("logs", "--tail", "30", self.container(service), check=False)
        return f"--- {service} ---\n{result.stdout}{result.stderr}"

    def received(self) -> list[dict[str, Any]]:
        path = self.records / "odoo.jsonl"
        if not path.exists():
            return []
        lines = path.read_text().splitlines()
        return [json.loads(line) for line in lines if line.endswith("}")]  # the last may be half written


def wait_for(what: str, check: Callable[[], Any], seconds: float, diagnose: Callable[[], str]) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {seconds:.0f} s\n{diagnose()}")
        time.sleep(1)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    reason = cannot_run()
    if reason:
        pytest.skip(reason)
    bin_dir = Path(sys.executable).parent
    assert (bin_dir / "podman-compose").exists() or shutil.which("podman-compose"), (
        "podman-compose is missing: it is in the dev extras (pip install -e '.[dev]')"
    )
    work = tmp_path_factory.mktemp("compose-stack")
    asterisk, records, recordings = work / "asterisk", work / "records", work / "monitor"
    shutil.copytree(ROOT / "peers" / "sample_asterisk_conf", asterisk)
    records.mkdir()
    recordings.mkdir()
    # One image tag per checkout: two worktrees testing at once do not run each other's code.
    tag = hashlib.sha1(str(ROOT).encode()).hexdigest()[:8]
    project = f"pbxtest{os.getpid()}"
    console_port = free_port()
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "COMPOSE_PROJECT_NAME": project,
        "COMPOSE_PROFILES": "console",
        "AGENT_IMAGE": f"localhost/pbx-agent:test-{tag}",
        "REDIS_IMAGE": f"localhost/pbx-agent-redis:test-{tag}",
        "REDIS_HOST_PORT": str(free_port()),
        "CONSOLE_PORT": str(console_port),
        "PHONEBOOK_PORT": str(free_port()),
        "ASTERISK_CONF_DIR": str(asterisk),
        "RECORDINGS_DIR": str(recordings),
        "PEER_RECORD_DIR": str(records),
    }
    stack = Stack(env, project, records, console_port, recordings)
    stack.run("build", timeout=900)
    try:
        stack.run("compose", "up", "-d", timeout=300)
        yield stack
    finally:
        stack.run("compose", "down", "--volumes", "-t", "5", timeout=300, check=False)
        # Whatever compose did not know of (a half-done `up`): by the project's label.
        label = f"label=io.podman.compose.project={project}"
        for kind, listing in (("container", ("ps", "-aq")), ("volume", ("volume", "ls", "-q"))):
            names = stack.podman(*listing, "--filter", label, check=False).stdout.split()
            if names:
                stack.podman(kind, "rm", "-f", *names, check=False)
        stack.podman("network", "rm", "-f", f"{project}_default", check=False)


def test_redis_every_agent_service_and_both_peers_run_as_containers(stack: Stack) -> None:
    result = stack.podman(
        "ps", "--filter", f"label=io.podman.compose.project={stack.project}", "--format", "json"
    )
    running = {c["Labels"]["com.docker.compose.service"]: c["State"] for c in json.loads(result.stdout)}
    assert running == dict.fromkeys(("redis", *AGENT_SERVICES, *PEERS), "running")


def test_calls_bans_and_conf_files_reach_the_odoo_peer(stack: Stack) -> None:
    # Calls: ami_peer -> ami_gateway -> Redis -> odoo_bridge. Bans: the guard, from the replayed attacks.
    # Files: conf_sync's first sync of the mounted directory. Each is a different service at work.
    def kinds() -> set[str] | None:
        seen = {f"{r['model']}.{r['method']}" for r in stack.received()}
        wanted = {"asterisk_plus.call.on_ami_events", "asterisk_plus.ban.bridge_on_bans"}
        wanted.add("asterisk_plus.conf.bridge_on_files")
        return seen if wanted <= seen else None

    wait_for(
        "calls, bans and files at the Odoo peer", kinds, 120, lambda: "".join(map(stack.logs, AGENT_SERVICES))
    )
    files = {r["item"]["@id"].split(":")[-1] for r in stack.received() if r["method"] == "bridge_on_files"}
    assert files == {p.name for p in (ROOT / "peers" / "sample_asterisk_conf").glob("*.conf")}


def test_a_recorded_call_reaches_the_odoo_peer_as_mp3_and_its_wav_is_deleted(stack: Stack) -> None:
    # The AMI peer's recorded call (every 20 s): its WAV in the mounted directory, its events through the
    # gateway; recordings -> Redis -> odoo_bridge -> the Odoo peer, whose verdict lets the WAV go.
    def recorded() -> list[dict[str, Any]]:
        return [r["item"] for r in stack.received() if r["method"] == "bridge_on_recordings"]

    services = ("ami_gateway", "recordings", "odoo_bridge")
    [item, *_] = wait_for(
        "a recording at the Odoo peer", recorded, 150, lambda: "".join(map(stack.logs, services))
    )
    assert item["@type"] == "recording" and item["status"] == "ok"
    # Named by the call's Uniqueid, as the AMI peer's MixMonitor names the file.
    wav = stack.recordings / item["file"]
    assert item["file"] == f"rec-{item['Uniqueid']}.wav"
    wait_for(f"{wav.name} deleted", lambda: not wav.exists(), 60, lambda: stack.logs("recordings"))


@pytest.mark.parametrize("service", ["redis", *AGENT_SERVICES])
def test_each_health_check_passes(stack: Stack, service: str) -> None:
    # Podman runs no health check by itself here (no systemd timers): `podman healthcheck run` runs one.
    container = stack.container(service)

    def healthy() -> bool:
        return stack.podman("healthcheck", "run", container, check=False).returncode == 0

    wait_for(f"{service}'s health check", healthy, 60, lambda: stack.logs(service))
    assert stack.inspect(service)["State"]["Health"]["Status"] == "healthy"


def test_console_answers_on_its_published_port(stack: Stack) -> None:
    url = f"http://127.0.0.1:{stack.console_port}/healthz"
    with urllib.request.urlopen(url, timeout=10) as response:
        body = json.loads(response.read())
    assert body["ready"] is True


def test_a_killed_service_is_restarted_by_its_restart_policy_and_events_keep_flowing(stack: Stack) -> None:
    before = stack.inspect("odoo_bridge")
    assert before["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
    # The service's own process (under `init: true`'s init), as a crash would end it.
    top = stack.podman("top", stack.container("odoo_bridge"), "hpid", "args").stdout.splitlines()[1:]
    pids = [int(line.split()[0]) for line in top if line.split()[1:3] == ["python", "-m"]]
    assert len(pids) == 1, top
    killed_ms = int(time.time() * 1000)
    os.kill(pids[0], 9)

    def restarted() -> bool:
        state = stack.inspect("odoo_bridge")
        return state["RestartCount"] > before["RestartCount"] and state["State"]["Status"] == "running"

    wait_for("odoo_bridge restarted by Podman", restarted, 60, lambda: stack.logs("odoo_bridge"))

    # Events the gateway published after the kill (entry ids are Redis's millisecond clock) are delivered.
    def delivered_after_kill() -> bool:
        entries = [r["item"]["@entry"] for r in stack.received() if r["method"] == "on_ami_events"]
        return any(int(entry.split("-")[0]) > killed_ms for entry in entries)

    wait_for("events delivered after the kill", delivered_after_kill, 90, lambda: stack.logs("odoo_bridge"))
    container = stack.container("odoo_bridge")
    wait_for(
        "odoo_bridge healthy again",
        lambda: stack.podman("healthcheck", "run", container, check=False).returncode == 0,
        60,
        lambda: stack.logs("odoo_bridge"),
    )
