"""The pure rules: sliding window, recidive, flood, known clients, scanners, whitelist and access list."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.guard.addresses import parse_remote_address, subtract_networks
from services.guard.rules import CHALLENGE, FAILURES, SUCCESS, Rules, RulesConfig, parse_event_time


@pytest.mark.parametrize(
    ("remote", "expected"),
    [
        ("IPV4/UDP/203.0.113.7/5060", "203.0.113.7"),
        ("IPV4/TCP/127.0.0.1/49084", "127.0.0.1"),
        # Asterisk prints IPv6 without brackets (ast_sockaddr_stringify_addr); brackets are accepted too.
        ("IPV6/UDP/2001:db8::1/5060", "2001:db8::1"),
        ("IPV6/UDP/[2001:db8::1]/5060", "2001:db8::1"),
        ("IPV6/TLS/2001:DB8:0:0::1/5061", "2001:db8::1"),
        # No transport when it is not a single known one.
        ("IPV4/203.0.113.9/5060", "203.0.113.9"),
        # A dual-stack socket: IPv4 peers as IPv4-mapped IPv6, or already unmapped under IPV6.
        ("IPV6/UDP/::ffff:203.0.113.7/5060", "203.0.113.7"),
        ("IPV6/UDP/203.0.113.7/5060", "203.0.113.7"),
        # Link-local with a scope: the firewall wants the bare address.
        ("IPV6/UDP/fe80::1%eth0/5060", "fe80::1"),
        ("IPV4/UDP/not-an-ip/5060", None),
        ("IPV4/UDP/5060", None),
        ("garbage", None),
        ("", None),
        (None, None),
    ],
)
def test_remote_address_parsing(remote: str | None, expected: str | None) -> None:
    assert parse_remote_address(remote) == expected


def test_event_time_is_read_from_eventtv() -> None:
    assert parse_event_time("2026-11-24T20:33:20.623+0000") == pytest.approx(1795552400.623)
    assert parse_event_time("2026-11-24T21:33:20.623+0100") == pytest.approx(1795552400.623)
    assert parse_event_time("yesterday") is None
    assert parse_event_time("") is None


def addr(ip: str) -> str:
    return f"IPV{6 if ':' in ip else 4}/UDP/{ip}/5060"


def test_maxretry_failures_within_findtime_ban_for_bantime() -> None:
    rules = Rules(RulesConfig(maxretry=5, findtime=600, bantime=600))
    results = [rules.feed("InvalidPassword", addr("203.0.113.7"), t * 10.0) for t in range(5)]
    assert results[:4] == [None] * 4
    ban = results[4]
    assert ban is not None and ban.address == "203.0.113.7" and ban.count == 5 and ban.bantime == 600
    # Banned: further events from it do not make a second ban.
    assert rules.feed("InvalidPassword", addr("203.0.113.7"), 60.0) is None


@pytest.mark.parametrize("kind", sorted(FAILURES))
def test_every_failure_kind_counts(kind: str) -> None:
    rules = Rules(RulesConfig(maxretry=3))
    assert [rules.feed(kind, addr("198.51.100.3"), float(t)) is not None for t in range(3)] == [
        False,
        False,
        True,
    ]


def test_failures_spread_wider_than_findtime_never_ban() -> None:
    rules = Rules(RulesConfig(maxretry=5, findtime=600))
    assert all(rules.feed("InvalidAccountID", addr("203.0.113.7"), t * 200.0) is None for t in range(20))


def test_an_ipv4_mapped_address_counts_with_its_ipv4_form() -> None:
    rules = Rules(RulesConfig(maxretry=2))
    assert rules.feed("InvalidPassword", "IPV4/UDP/203.0.113.7/5060", 0) is None
    ban = rules.feed("InvalidPassword", "IPV6/UDP/::ffff:203.0.113.7/5060", 1)
    assert ban is not None and ban.address == "203.0.113.7"


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


def test_a_repeat_offender_past_any_float_still_gets_the_cap() -> None:
    """factor ** (offence - 1) overflows a float after some 1000 offences (a restored count may be that)."""
    rules = Rules(RulesConfig(maxretry=1, bantime=600.0, recidive_factor=2.0, recidive_max=604800.0))
    rules.offences["198.51.100.9"] = (5000, 0.0)
    ban = rules.feed("InvalidPassword", addr("198.51.100.9"), 10)
    assert ban is not None and ban.offence == 5001 and ban.bantime == 604800


def test_offences_older_than_recidive_findtime_are_forgotten() -> None:
    rules = Rules(RulesConfig(maxretry=1, bantime=600, recidive_findtime=86400))
    first = rules.feed("InvalidPassword", addr("198.51.100.9"), 0)
    rules.released("198.51.100.9")
    second = rules.feed("InvalidPassword", addr("198.51.100.9"), 3600)
    rules.released("198.51.100.9")
    third = rules.feed("InvalidPassword", addr("198.51.100.9"), 3600 + 86401)
    assert (first.offence, second.offence, third.offence) == (1, 2, 1)  # type: ignore[union-attr]
    assert third.bantime == 600  # type: ignore[union-attr]


def test_an_unban_by_a_person_forgives_past_offences() -> None:
    rules = Rules(RulesConfig(maxretry=1))
    rules.feed("InvalidPassword", addr("198.51.100.9"), 0)
    rules.released("198.51.100.9", forgive=True)
    assert rules.feed("InvalidPassword", addr("198.51.100.9"), 10).offence == 1  # type: ignore[union-attr]


def test_a_success_from_another_address_does_not_reset_an_attacker() -> None:
    rules = Rules(RulesConfig(maxretry=3))
    rules.feed("InvalidPassword", addr("203.0.113.7"), 0)
    rules.feed("InvalidPassword", addr("203.0.113.7"), 1)
    rules.feed(CHALLENGE, addr("198.51.100.20"), 2)
    rules.feed(SUCCESS, addr("198.51.100.20"), 2)
    assert rules.feed("InvalidPassword", addr("203.0.113.7"), 3) is not None


def test_flood_bans_whatever_the_kind_but_not_a_known_client() -> None:
    rules = Rules(RulesConfig(flood_rate=20, maxretry=1000, scanner_challenges=1000))
    known = addr("198.51.100.20")
    rules.feed(CHALLENGE, known, 0.0)
    rules.feed(SUCCESS, known, 0.0)
    flood = None
    for i in range(25):
        assert rules.feed(CHALLENGE, known, 0.5 + i * 0.001) is None
        assert rules.feed(SUCCESS, known, 0.5 + i * 0.001) is None
        flood = flood or rules.feed(SUCCESS, addr("203.0.113.50"), 0.5 + i * 0.001)
    assert flood is not None and flood.address == "203.0.113.50" and flood.reason.startswith("flood")
    assert flood.count == 21


def test_flood_needs_more_than_the_rate_within_one_second() -> None:
    rules = Rules(RulesConfig(flood_rate=8, maxretry=1000, scanner_challenges=1000))
    # 8 a second for a minute: at the rate, never above it.
    assert all(rules.feed("SuccessfulAuth", addr("203.0.113.51"), i / 8) is None for i in range(480))
    assert any(rules.feed("SuccessfulAuth", addr("203.0.113.52"), i / 16) for i in range(9))


def test_a_known_client_stops_being_known_when_it_stops_authenticating() -> None:
    rules = Rules(RulesConfig(flood_rate=5, findtime=60, maxretry=1000, scanner_challenges=1000))
    client = addr("198.51.100.21")
    rules.feed(CHALLENGE, client, 0.0)
    rules.feed(SUCCESS, client, 0.1)
    assert all(rules.feed("RequestBadFormat", client, 30 + i / 100) is None for i in range(10))
    ban = None
    for i in range(10):
        ban = ban or rules.feed("RequestBadFormat", client, 100 + i / 100)
    assert ban is not None and ban.reason.startswith("flood")


def test_a_known_client_that_fails_maxretry_times_is_still_banned() -> None:
    rules = Rules(RulesConfig(maxretry=3))
    client = addr("198.51.100.22")
    rules.feed(CHALLENGE, client, 0.0)
    rules.feed(SUCCESS, client, 0.1)
    bans = [rules.feed("InvalidPassword", client, 1.0 + i) for i in range(3)]
    assert bans[-1] is not None


def test_challenges_never_answered_mark_a_scanner() -> None:
    rules = Rules(RulesConfig(scanner_challenges=10, maxretry=1000))
    bans = [rules.feed(CHALLENGE, addr("203.0.113.77"), i * 5.0) for i in range(10)]
    assert bans[-1] is not None and bans[-1].reason.startswith("scanner")
    assert all(b is None for b in bans[:-1])


def test_a_client_answering_its_challenges_is_never_a_scanner() -> None:
    rules = Rules(RulesConfig(scanner_challenges=3, maxretry=1000, flood_rate=1000))
    client = addr("198.51.100.23")
    for i in range(100):
        assert rules.feed(CHALLENGE, client, i * 60.0) is None
        assert rules.feed(SUCCESS, client, i * 60.0 + 0.05) is None


def test_whitelist_and_access_list() -> None:
    rules = Rules(RulesConfig(maxretry=1, whitelist=("127.0.0.0/8", "10.0.0.0/8")))
    denied = rules.set_acl(
        [
            {"address": "192.0.2.0/24", "action": "allow"},
            {"address": "203.0.113.66", "action": "deny", "comment": "known bad"},
            {"address": "10.9.0.0/16", "action": "deny"},  # whitelisted: the whitelist wins
        ]
    )
    assert denied == [ipaddress.ip_network("203.0.113.66/32")]
    assert rules.feed("InvalidPassword", addr("10.1.2.3"), 0) is None
    assert rules.feed("InvalidPassword", addr("127.0.0.1"), 0) is None
    assert rules.feed("InvalidPassword", addr("192.0.2.44"), 0) is None
    assert rules.feed("InvalidPassword", addr("203.0.113.66"), 0) is None  # dropped for good already
    assert rules.feed("InvalidPassword", addr("2001:db8::bad"), 0) is not None


def test_an_access_list_with_an_unknown_action_is_refused() -> None:
    rules = Rules(RulesConfig())
    with pytest.raises(ValueError):
        rules.set_acl([{"address": "192.0.2.1", "action": "maybe"}])
    with pytest.raises(ValueError):
        rules.set_acl([{"address": "not an address", "action": "deny"}])


def test_memory_is_bounded_under_a_spoofed_flood() -> None:
    rules = Rules(RulesConfig(max_sources=1000, maxretry=5))
    for i in range(10_000):
        rules.feed("InvalidPassword", addr(f"10.{i // 65536}.{i // 256 % 256}.{i % 256}"), i / 1000)
    assert len(rules.sources) <= 1000
    # The most recent addresses are still counted.
    last = addr("10.0.39.15")
    assert [rules.feed("InvalidPassword", last, 11.0 + i) is not None for i in range(4)][-1]


def test_saved_windows_restore_the_same_counts() -> None:
    rules = Rules(RulesConfig(maxretry=5))
    for t in range(4):
        rules.feed("InvalidPassword", addr("203.0.113.7"), float(t))
    rules.feed(CHALLENGE, addr("198.51.100.1"), 1.0)
    saved = rules.take_dirty()
    assert rules.take_dirty() == {}
    again = Rules(RulesConfig(maxretry=5))
    for address, state in saved.items():
        assert state is not None
        again.load_source(address, state)
    assert again.feed("InvalidPassword", addr("203.0.113.7"), 5.0) is not None


def test_forgetting_idle_sources_keeps_active_ones() -> None:
    rules = Rules(RulesConfig(findtime=600))
    rules.feed("InvalidPassword", addr("203.0.113.1"), 0.0)
    rules.feed("InvalidPassword", addr("203.0.113.2"), 500.0)
    rules.forget_idle(700.0)
    assert set(rules.sources) == {"203.0.113.2"}


_event_kinds = st.sampled_from([*sorted(FAILURES), CHALLENGE, SUCCESS, "InvalidTransport"])


@settings(max_examples=300, deadline=None)
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


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(_event_kinds, st.integers(0, 5), st.floats(0, 5_000, allow_nan=False)), max_size=200),
    st.integers(0, 5),
)
def test_one_address_never_changes_another_addresses_outcome(
    events: list[tuple[str, int, float]], watched: int
) -> None:
    """Whatever the others do, the watched address is banned exactly when it would be on its own."""
    cfg = RulesConfig(maxretry=3, findtime=100, flood_rate=8, scanner_challenges=4)
    events.sort(key=lambda e: e[2])
    mixed, alone = Rules(cfg), Rules(cfg)
    for kind, who, t in events:
        got = mixed.feed(kind, addr(f"203.0.113.{who}"), t)
        if who == watched:
            assert got == alone.feed(kind, addr(f"203.0.113.{who}"), t)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from([*sorted(FAILURES), CHALLENGE, SUCCESS]), max_size=300),
    st.sampled_from(["127.0.0.1", "10.1.2.3", "192.0.2.9", "::1"]),
)
def test_protected_addresses_are_never_banned(kinds: list[str], who: str) -> None:
    rules = Rules(
        RulesConfig(maxretry=1, flood_rate=1, scanner_challenges=1, whitelist=("127.0.0.0/8", "::1"))
    )
    rules.set_acl(
        [{"address": "10.0.0.0/8", "action": "allow"}, {"address": "192.0.2.0/24", "action": "allow"}]
    )
    assert all(rules.feed(kind, addr(who), i / 1000) is None for i, kind in enumerate(kinds))


_nets = st.builds(
    lambda a, p: ipaddress.ip_network(f"{ipaddress.IPv4Address(a)}/{p}", strict=False),
    st.integers(0, 2**32 - 1),
    st.integers(8, 32),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_nets, max_size=5), st.lists(_nets, max_size=5), st.lists(st.integers(0, 2**32 - 1), max_size=30)
)
def test_denied_networks_are_deny_minus_protected(deny, holes, probes) -> None:  # type: ignore[no-untyped-def]
    result = subtract_networks(deny, holes)
    for net in deny:
        probes += [int(net.network_address), int(net.broadcast_address)]
    for hole in holes:
        probes += [int(hole.network_address), int(hole.broadcast_address)]
    for value in probes:
        ip = ipaddress.IPv4Address(value)
        expected = any(ip in n for n in deny) and not any(ip in h for h in holes)
        assert any(ip in n for n in result) == expected
    # As few networks as possible: none overlaps another.
    assert list(ipaddress.collapse_addresses(result)) == sorted(result)
