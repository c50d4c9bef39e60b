"""`pbx action` through a running gateway to the AMI peer: the reply printed, the exit code its status."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from peers.ami_peer import AmiPeer
from tests.ami_gateway.conftest import Running, gateway_settings, start_gateway, wait_logged_in

from .conftest import pbx


@pytest.fixture
async def gateway(redis_url: str, prefix: str) -> AsyncIterator[Running]:
    peer = await AmiPeer(login_failure_delay=0.05).start()
    run = await start_gateway(gateway_settings(redis_url, prefix, peer.port), peer)
    await wait_logged_in(peer)
    yield run
    await run.halt()
    await peer.stop()


async def test_ping_prints_the_reply(redis_url: str, prefix: str, gateway: Running) -> None:
    done = await pbx(redis_url, prefix, "action", "Ping")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "status: ok"
    assert {"Response: Success", "Ping: Pong"} <= set(lines)


async def test_a_cli_command_prints_its_output_indented(
    redis_url: str, prefix: str, gateway: Running
) -> None:
    done = await pbx(redis_url, prefix, "action", "Command", "Command=core show version")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    output = lines.index("Output:")
    assert lines[output + 1].startswith("  Asterisk 22.10.1 built by")


async def test_a_list_action_prints_one_line_per_item(redis_url: str, prefix: str, gateway: Running) -> None:
    gateway.peer.channels = {
        f"PJSIP/10{i}-1": [("Channel", f"PJSIP/10{i}-1"), ("ChannelState", "6")] for i in range(2)
    }
    done = await pbx(redis_url, prefix, "action", "Status")
    assert done.returncode == 0, done.stderr
    items = [line for line in done.stdout.splitlines() if line.startswith("  - ")]
    assert [i.split()[1] for i in items] == ["Event=Status", "Event=Status", "Event=StatusComplete"]
    assert "Channel=PJSIP/100-1" in items[0]


async def test_an_error_reply_exits_1_with_asterisks_text(
    redis_url: str, prefix: str, gateway: Running
) -> None:
    done = await pbx(redis_url, prefix, "action", "Command", "Command=no such command")
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[0] == "status: error"
    assert lines[lines.index("Output:") + 1].startswith("  No such command 'no such command'")


async def test_an_action_the_bus_may_not_run_is_refused(
    redis_url: str, prefix: str, gateway: Running
) -> None:
    done = await pbx(redis_url, prefix, "action", "Login", "Username=admin", "Secret=admin")
    assert done.returncode == 1
    assert done.stdout.splitlines()[0] == "status: error"
    assert any(line.startswith("error: ") for line in done.stdout.splitlines())
    assert sum(1 for s in gateway.peer.sessions if s.user) == 1  # the gateway's own login, no other


async def test_no_gateway_exits_2_and_says_so(redis_url: str, prefix: str) -> None:
    done = await pbx(redis_url, prefix, "action", "Ping", "--timeout", "0.5")
    assert done.returncode == 2
    assert done.stdout == ""
    assert "is ami_gateway running?" in done.stderr
