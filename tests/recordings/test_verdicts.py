"""A WAV is deleted only on Odoo's verdict; a verdict lost is made up for by sending again, a slow Odoo is
waited for, and a recording that never gets a verdict is given up after RECORDINGS_MAX_SENDS."""

from __future__ import annotations

import asyncio

from services.bus import Entry
from services.recordings.state import REJECTED, SENT
from tests.bus.helpers import eventually

from .conftest import Stack


def lose_verdicts(stack: Stack, how_many: int) -> list[str]:
    """The bridge's next verdicts never reach the bus (a Redis that lost them): their ids are listed."""
    route = stack.bridge.bridge.recordings
    real, lost = route.verdict, []

    async def verdict(entry: Entry, error: str) -> None:
        if len(lost) < how_many:
            lost.append(entry.msg_id)
            return
        await real(entry, error)

    route.verdict = verdict  # type: ignore[method-assign]
    return lost


async def stage_is(stack: Stack, path: str, stage: str) -> bool:
    state = await stack.state(path)
    return state is not None and state.stage == stage


async def test_a_lost_verdict_is_made_up_for_by_sending_again(stack: Stack) -> None:
    lost = lose_verdicts(stack, 1)
    await stack.start(recordings_verdict_timeout_s=0.5)
    call = await stack.call(seconds=1)
    recording = await stack.arrived(call)
    assert lost == [recording.key]
    # Sent again after the timeout: Odoo answers `duplicate`, a verdict; the WAV is deleted.
    await eventually(lambda: _missing(stack, call.file_name))
    assert stack.odoo.recordings.summary_receipts[recording.key] == 2
    assert len(stack.odoo.recordings.recordings) == 1


async def _missing(stack: Stack, name: str) -> bool:
    return not (stack.dir / name).exists() and await stack.state(name) is None


async def test_no_verdict_ever_gives_the_recording_up_after_max_sends_and_keeps_the_wav(stack: Stack) -> None:
    lose_verdicts(stack, 100)
    await stack.start(recordings_verdict_timeout_s=0.3, recordings_max_sends=2)
    call = await stack.call(seconds=1)
    await eventually(lambda: stage_is(stack, call.file_name, REJECTED))
    state = await stack.state(call.file_name)
    assert state is not None and state.reason == "no verdict from Odoo after 2 sends"
    assert stack.odoo.recordings.summary_receipts[state.key] == 2
    assert (stack.dir / call.file_name).exists()


async def test_while_odoo_is_away_the_bridge_holds_the_recording_and_nothing_is_sent_twice(
    stack: Stack,
) -> None:
    await stack.odoo.stop()
    await stack.start(recordings_verdict_timeout_s=0.3)
    call = await stack.call(seconds=1)
    await eventually(lambda: stage_is(stack, call.file_name, SENT))
    await asyncio.sleep(1.5)  # five verdict timeouts: the bridge still holds the summary, so no send again
    state = await stack.state(call.file_name)
    assert state is not None and state.stage == SENT and state.sends == 1
    await stack.odoo.start()
    await eventually(lambda: _missing(stack, call.file_name), timeout=30)
    assert stack.odoo.recordings.summary_receipts[state.key] == 1
