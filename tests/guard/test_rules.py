from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.guard.rules import FAILURES, Rules, RulesConfig, parse_remote_address


@pytest.mark.parametrize(
    ("remote", "expected"),
    [
        ("IPV4/UDP/203.0.113.7/5060", "203.0.113.7"),
        ("IPV4/TCP/127.0.0.1/49084", "127.0.0.1"),
        ("IPV6/UDP/[2001:db8::1]/5060", "2001:db8::1"),
        ("IPV6/UDP/2001:db8::1/5060", "2001:db8::1"),
        ("IPV4/UDP/not-an-ip/5060", None),
        ("garbage", None),
        ("", None),
    ],
)
def test_remote_address_parsing(remote: str, expected: str | None) -> None:
    parsed = parse_remote_address(remote)
    assert (str(parsed) if parsed else None) == expected


def addr(ip: str) -> str:
    return f"IPV{6 if ':' in ip else 4}/UDP/{ip}/5060"


def test_maxretry_failures_within_findtime_ban_for_bantime() -> None:
    rules = Rules(RulesConfig(maxretry=5, findtime=600, bantime=600))
    results = [rules.feed("InvalidPassword", addr("203.0.113.7"), t * 10.0) for t in range(5)]
    assert results[:4] == [None] * 4
    ban = results[4]
    assert ban is not None and ban.address == "203.0.113.7" and ban.count == 5 and ban.bantime == 600


def test_failures_spread_wider_than_findtime_never_ban() -> None:
    rules = Rules(RulesConfig(maxretry=5, findtime=600))
    assert all(rules.feed("InvalidAccountID", addr("203.0.113.7"), t * 200.0) is None for t in range(20))


def test_repeat_offenders_get_longer_bans_up_to_the_cap() -> None:
    rules = Rules(RulesConfig(maxretry=2, bantime=600, recidive_factor=2, recidive_max=2000))
    times = []
    for offence in range(4):
        rules.feed("InvalidPassword", addr("198.51.100.9"), offence * 1000.0)
        ban = rules.feed("InvalidPassword", addr("198.51.100.9"), offence * 1000.0 + 1)
        assert ban is not None and ban.offence == offence + 1
        times.append(ban.bantime)
        rules.released("198.51.100.9")
    assert times == [600, 1200, 2000, 2000]


def test_a_success_from_another_address_does_not_reset_an_attacker() -> None:
    rules = Rules(RulesConfig(maxretry=3))
    rules.feed("InvalidPassword", addr("203.0.113.7"), 0)
    rules.feed("InvalidPassword", addr("203.0.113.7"), 1)
    rules.feed("ChallengeSent", addr("198.51.100.20"), 2)
    rules.feed("SuccessfulAuth", addr("198.51.100.20"), 2)
    assert rules.feed("InvalidPassword", addr("203.0.113.7"), 3) is not None


def test_flood_bans_whatever_the_kind_but_not_a_known_client() -> None:
    rules = Rules(RulesConfig(flood_rate=20, maxretry=1000, scanner_challenges=1000))
    known = addr("198.51.100.20")
    rules.feed("ChallengeSent", known, 0.0)
    rules.feed("SuccessfulAuth", known, 0.0)
    flood = None
    for i in range(25):
        assert rules.feed("ChallengeSent", known, 0.5 + i * 0.001) is None
        rules.feed("SuccessfulAuth", known, 0.5 + i * 0.001)
        flood = flood or rules.feed("SuccessfulAuth", addr("203.0.113.50"), 0.5 + i * 0.001)
    assert flood is not None and flood.address == "203.0.113.50" and flood.reason.startswith("flood")


def test_challenges_never_answered_mark_a_scanner() -> None:
    rules = Rules(RulesConfig(scanner_challenges=10, maxretry=1000))
    bans = [rules.feed("ChallengeSent", addr("203.0.113.77"), i * 5.0) for i in range(10)]
    assert bans[-1] is not None and bans[-1].reason.startswith("scanner")
    assert all(b is None for b in bans[:-1])


def test_whitelist_and_access_list() -> None:
    rules = Rules(RulesConfig(maxretry=1, whitelist=("127.0.0.0/8", "10.0.0.0/8")))
    deny = rules.set_acl(
        [{"address": "192.0.2.0/24", "action": "allow"}, {"address": "203.0.113.66", "action": "deny"}]
    )
    assert deny == [ipaddress.ip_network("203.0.113.66/32")]
    assert rules.feed("InvalidPassword", addr("10.1.2.3"), 0) is None
    assert rules.feed("InvalidPassword", addr("127.0.0.1"), 0) is None
    assert rules.feed("InvalidPassword", addr("192.0.2.44"), 0) is None
    assert rules.feed("InvalidPassword", addr("2001:db8::bad"), 0) is not None


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(sorted(FAILURES)), st.floats(0, 10_000)), max_size=60))
def test_no_ban_without_maxretry_failures_inside_one_findtime_window(events: list[tuple[str, float]]) -> None:
    cfg = RulesConfig(maxretry=5, findtime=600, flood_rate=10**9)
    rules = Rules(cfg)
    events.sort(key=lambda e: e[1])
    times = []
    for kind, t in events:
        ban = rules.feed(kind, addr("203.0.113.7"), t)
        times.append(t)
        window = [x for x in times if x > t - cfg.findtime]
        if ban is not None:
            assert len(window) >= cfg.maxretry
            return
        assert len(window) < cfg.maxretry
