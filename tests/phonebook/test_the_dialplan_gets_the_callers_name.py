"""The caller's name for Asterisk's `CURL()`, from the book Odoo published into Redis: any way the dialplan
writes the number, only with the server's token, names safe for Set(CALLERID(name)=...), a new token taken
within the refresh time, and a clear answer when Redis or the book is missing."""

from __future__ import annotations

import pytest

from tests.bus.helpers import eventually

from .conftest import TOKEN, PhonebookFactory

BOOK = {"+32470123456": "Jane Doe (Acme)", "+3225551234": "Acme"}


WAYS = ["+32470123456", "%2B32470123456", "0470123456", "0470 12 34 56", "0032470123456", "32470123456"]


@pytest.mark.parametrize("asked", WAYS, ids=[f"way{n}" for n in range(len(WAYS))])
async def test_every_way_the_dialplan_writes_a_number_finds_its_name(
    phonebook: PhonebookFactory, asked: str
) -> None:
    run = await phonebook()
    await run.publish(BOOK)
    response = await run.cid(asked)
    assert (response.status_code, response.text) == (200, "Jane Doe (Acme)")
    assert response.headers["content-type"].startswith("text/plain")


async def test_an_unknown_number_an_extension_or_anonymous_give_an_empty_name(
    phonebook: PhonebookFactory,
) -> None:
    run = await phonebook()
    await run.publish(BOOK)
    for asked in ("+32470999999", "101", "anonymous", "<unknown>"):
        response = await run.cid(asked)
        assert (response.status_code, response.text) == (200, ""), asked


async def test_a_local_number_is_read_in_the_servers_country(phonebook: PhonebookFactory) -> None:
    run = await phonebook()
    await run.publish({"+33612345678": "Client FR"}, country="FR")
    assert (await run.cid("0612345678")).text == "Client FR"
    await run.publish({"+33612345678": "Client FR"}, country="BE")
    await eventually(lambda: _says(run, "0612345678", ""))  # in BE, 06... is another number


async def test_without_the_servers_token_nothing_comes_back(phonebook: PhonebookFactory) -> None:
    run = await phonebook()
    await run.publish(BOOK)
    for token in (None, "", "wrong", TOKEN[:-1], TOKEN + "x"):
        response = await run.cid("+32470123456", token=token)
        assert (response.status_code, response.text) == (403, ""), token
    async with run.http() as client:
        response = await client.get("/phonebook/yealink.xml", params={"token": "wrong"})
    assert (response.status_code, response.text) == (403, "")
    assert run.service.counts["refused"] == 6


async def test_a_new_token_is_taken_and_the_old_one_refused_after_the_refresh(
    phonebook: PhonebookFactory,
) -> None:
    run = await phonebook()
    await run.publish(BOOK)
    assert (await run.cid("+32470123456")).status_code == 200
    await run.bus.redis.hset(run.bus.key("phonebook:meta"), "token", "the-new-token-0123456789abcdef")
    await eventually(lambda: _status(run, "+32470123456", TOKEN, 403))
    assert (await run.cid("+32470123456", token="the-new-token-0123456789abcdef")).text == "Jane Doe (Acme)"


async def test_before_odoo_published_a_book_every_request_is_unavailable(phonebook: PhonebookFactory) -> None:
    run = await phonebook()
    response = await run.cid("+32470123456", token="")
    assert (response.status_code, response.text) == (503, "")
    async with run.http() as client:
        health = (await client.get("/healthz")).json()
    assert health == {"ready": True, "published": False, "count": "", "updated_at": ""}


async def test_names_are_made_safe_for_the_dialplan_and_short(phonebook: PhonebookFactory) -> None:
    run = await phonebook(phonebook_name_max=20)
    await run.publish(
        {
            "+32470000001": 'Jo "The Boss" ${SHELL}\\ [x]\n Doe',
            "+32470000002": "Éloïse Dupont-Ünal, Société Générale",
            "+32470000003": "`$",
        }
    )
    assert (await run.cid("+32470000001")).text == "Jo The Boss SHELL x"
    assert (await run.cid("+32470000002")).text == "Éloïse Dupont-Ünal,"
    assert (await run.cid("+32470000003")).text == ""


async def test_while_redis_is_away_the_dialplan_gets_a_quick_503_and_names_come_back_with_it(
    phonebook: PhonebookFactory, own_redis
) -> None:
    run = await phonebook(redis_url=own_redis.url)
    await run.publish(BOOK)
    own_redis.stop()
    await eventually(lambda: _status(run, "+32470123456", TOKEN, 503))
    own_redis.start()  # the append-only file kept the book, as Redis keeps it in production
    await eventually(lambda: _status(run, "+32470123456", TOKEN, 200))
    assert (await run.cid("+32470123456")).text == "Jane Doe (Acme)"


async def _says(run, number: str, text: str) -> bool:
    return (await run.cid(number)).text == text


async def _status(run, number: str, token: str, code: int) -> bool:
    return (await run.cid(number, token=token)).status_code == code
