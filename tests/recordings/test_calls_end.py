"""When a recording is over, as the events tell: its channel's Hangup, a MixMonitorStop, or Asterisk started
again since it began; a new AMI login (which also gets a FullyBooted) ends nothing."""

from __future__ import annotations

import asyncio
import time

from peers.ami_peer.flows.recording import RecordedCall
from tests.ami_gateway.conftest import wait_logged_in
from tests.bus.helpers import eventually

from .conftest import ASTERISK_DIR, Stack


async def start_silent_call(stack: Stack) -> RecordedCall:
    """A call in which nobody speaks, still going on: its WAV is the 44-byte header."""
    call = RecordedCall(directory=stack.dir, asterisk_dir=ASTERISK_DIR, audio=False)
    await stack.ami.replay(call.opening())
    call.write_open()
    await eventually(lambda: _live(stack, call.uniqueid))
    return call


async def _live(stack: Stack, uniqueid: str) -> bool:
    assert stack.service is not None
    return bool(await stack.bus.redis.hexists(stack.service.store.live, uniqueid))


async def reconnect(stack: Stack) -> None:
    stack.ami.drop_connections()
    await asyncio.sleep(0.3)
    await wait_logged_in(stack.ami)


async def ended(stack: Stack, call: RecordedCall) -> bool:
    assert stack.service is not None
    return bool((await stack.service.store.link(call.file_name)).get("ended"))


async def test_a_new_ami_login_ends_no_recording_but_an_asterisk_restart_ends_them_all(stack: Stack) -> None:
    await stack.start()
    call = await start_silent_call(stack)
    await asyncio.sleep(2.5)  # older than the clocks' slack
    await reconnect(stack)  # the gateway logs in again: FullyBooted, Uptime since the peer started
    await asyncio.sleep(1.0)
    assert await _live(stack, call.uniqueid) and not await ended(stack, call)
    stack.ami._started = time.time()  # Asterisk restarted: its next FullyBooted says Uptime 0
    await reconnect(stack)
    await eventually(lambda: ended(stack, call))
    assert not await _live(stack, call.uniqueid)
    # Its file was never closed (sizes 0): not taken for empty before RECORDINGS_STALE_S.
    await asyncio.sleep(1.0)
    assert stack.recording(call) is None


async def test_a_mixmonitor_stop_ends_the_recording_before_the_call_ends(stack: Stack) -> None:
    await stack.start()
    call = await start_silent_call(stack)
    stop = [
        ("Event", "MixMonitorStop"),
        ("Privilege", "call,all"),
        *[(k, v) for k, v in call.opening()[-1] if k not in ("Event", "Privilege")],
    ]
    await stack.ami.replay([stop])
    call.write_close()
    recording = await stack.arrived(call)
    assert recording.status == "empty" and not await _live(stack, call.uniqueid)


async def test_a_silent_call_going_on_is_not_taken_for_an_empty_recording(stack: Stack) -> None:
    await stack.start()
    call = await start_silent_call(stack)
    await stack.ami.replay([call.closing()[-2]])  # its Hangup: the file is still open (sizes 0) a moment
    await asyncio.sleep(1.5)  # many scans and looks at the file
    assert stack.recording(call) is None
    state = await stack.state(call.file_name)
    assert state is not None and state.stage == "waiting" and state.ended
    call.write_close()  # MixMonitor's thread closes it: RIFF size 36
    assert (await stack.arrived(call)).status == "empty"
