"""`python -m peers.ami_peer --scenario demo`: an Asterisk stand-in replaying calls and attacks.

`--scenario <flow>` replays one of the real call flows (peers/ami_peer/flows) again and again, `real-flows`
all of them in turn, `idle` nothing (it still answers actions).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
from pathlib import Path

from .flows import FLOWS
from .flows.recording import demo_recordings
from .scenarios import attack, demo_calls, good_client
from .server import AmiPeer

log = logging.getLogger("ami_peer")


async def demo(peer: AmiPeer, pause: float) -> None:
    rng = random.Random()
    round_ = 0
    while True:
        round_ += 1
        if not any(s.user for s in peer.sessions):
            await asyncio.sleep(0.5)
            continue
        for call in demo_calls(rng):
            n = await peer.replay(call.events(), rate=50)
            log.info(
                "call replayed: %s -> %s (%s), %d events", call.caller_num, call.callee_exten, call.status, n
            )
            await asyncio.sleep(pause)
        if round_ % 2 == 1:
            attackers = [f"203.0.113.{rng.randint(1, 254)}" for _ in range(3)] + ["2001:db8::bad"]
            n = await peer.replay(attack(attackers, attempts=6), rate=200)
            n += await peer.replay(good_client("198.51.100.20"), rate=200)
            log.info(
                "attack replayed from %s (%d security events, plus a good client)", ", ".join(attackers), n
            )


async def flows(peer: AmiPeer, names: list[str], pause: float) -> None:
    turn = 0
    while True:
        if not any(s.user for s in peer.sessions):
            await asyncio.sleep(0.5)
            continue
        name = names[turn % len(names)]
        turn += 1
        n = await peer.replay(FLOWS[name](), rate=50)
        log.info("flow replayed: %s, %d events", name, n)
        await asyncio.sleep(pause)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5038)
    parser.add_argument("--user", default="admin")
    parser.add_argument("--secret", default="admin")
    parser.add_argument("--scenario", choices=["demo", "idle", "real-flows", *FLOWS], default="demo")
    parser.add_argument("--pause", type=float, default=2.0, help="seconds between calls")
    parser.add_argument(
        "--timestamp-events", action="store_true", help="`Timestamp:` on events (timestampevents=yes)"
    )
    parser.add_argument(
        "--recordings-dir", help="demo: a recorded call (MixMonitor) now and then, its WAV here"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    peer = AmiPeer(
        args.host, args.port, users={args.user: args.secret}, timestamp_events=args.timestamp_events
    )
    peer.record_sent = False  # a long demo must not grow memory
    await peer.start()
    log.info("AMI peer listening on %s:%d (user %s)", args.host, peer.port, args.user)
    recorder = None  # kept: a task nobody holds may be collected
    if args.scenario == "demo" and args.recordings_dir:
        recorder = asyncio.create_task(demo_recordings(peer, Path(args.recordings_dir), args.recordings_dir))
    if args.scenario == "demo":
        await demo(peer, args.pause)
    elif args.scenario == "real-flows":
        await flows(peer, list(FLOWS), args.pause)
    elif args.scenario in FLOWS:
        await flows(peer, [args.scenario], args.pause)
    else:
        await asyncio.Event().wait()
    del recorder


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
