"""The same book as a remote phonebook for desk phones (Yealink's XML)."""

from __future__ import annotations

from xml.etree import ElementTree

from services.phonebook.book import yealink_xml

from .conftest import TOKEN, PhonebookFactory


async def test_a_yealink_phone_gets_every_name_once_with_its_numbers(phonebook: PhonebookFactory) -> None:
    run = await phonebook()
    await run.publish(
        {
            "+32470123456": "Jane Doe (Acme)",
            "+3225551234": "Jane Doe (Acme)",
            "+33612345678": "Bob & Sons <Ltd>",
            "+32470000009": '"$"',  # nothing left once made safe: left out
        }
    )
    async with run.http() as client:
        response = await client.get("/phonebook/yealink.xml", params={"token": TOKEN})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    root = ElementTree.fromstring(response.content)
    assert root.tag == "YealinkIPPhoneDirectory"
    entries = [
        (entry.findtext("Name"), [t.text for t in entry.findall("Telephone")])
        for entry in root.findall("DirectoryEntry")
    ]
    assert entries == [
        ("Bob & Sons <Ltd>", ["+33612345678"]),
        ("Jane Doe (Acme)", ["+3225551234", "+32470123456"]),
    ]


def test_an_empty_book_is_still_a_valid_directory() -> None:
    root = ElementTree.fromstring(yealink_xml({}).encode())
    assert (root.tag, root.findall("DirectoryEntry")) == ("YealinkIPPhoneDirectory", [])
