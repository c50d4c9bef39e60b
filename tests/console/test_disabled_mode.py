"""CONSOLE_DISABLED=yes: the console does not start at all, and says so."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from peers.local_redis import free_port


def test_a_disabled_console_logs_why_and_listens_nowhere(redis_url: str) -> None:
    port = free_port()
    env = {**os.environ, "CONSOLE_DISABLED": "yes", "CONSOLE_PORT": str(port), "REDIS_URL": redis_url}
    done = subprocess.run(
        [sys.executable, "-m", "services.console"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0
    assert "console disabled (CONSOLE_DISABLED=yes); not starting" in done.stderr
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_an_enabled_console_serves_its_port(redis_url: str) -> None:
    port = free_port()
    env = {
        **os.environ,
        "CONSOLE_DISABLED": "no",
        "CONSOLE_PORT": str(port),
        "REDIS_URL": redis_url,
        "CONSOLE_HOST": "127.0.0.1",
        "PBX_PREFIX": f"disabled-test-{port}",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.console"], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if "console listening" in line:
                break
        else:
            raise AssertionError("the console exited without listening")
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) == 0
    finally:
        proc.terminate()
        assert proc.wait(30) == 0
