"""The phonebook Odoo publishes into the agent's Redis (number -> name), in a real Odoo against a real
redis-server: changed contacts after commit, the whole book on Rebuild (button, cron), the token."""

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import forget_existing_numbers
from .test_console_ban_call import RedisCase

BOOK, META = "pbxtest:asterisk1:phonebook", "pbxtest:asterisk1:phonebook:meta"


@tagged("post_install", "-at_install")
class TestPhonebook(RedisCase):
    def setUp(self):
        super().setUp()
        self.need_redis()
        forget_existing_numbers(self.env)
        self.server.write({"country_id": self.env.ref("base.be").id, "phonebook_enabled": True})
        self.commit()

    def commit(self):
        """What a commit does: flush and precommit hooks (the entries), then postcommit hooks (Redis)."""
        self.env.cr.flush()
        self.commit_hooks()

    def contact(self, name, **values):
        partner = self.env["res.partner"].create(
            dict({"name": name, "country_id": self.server.country_id.id}, **values)
        )
        self.commit()
        return partner

    def test_a_changed_contact_reaches_the_phonebook_after_commit_and_only_then(self):
        acme = self.contact("Acme", is_company=True, phone="+32 2 555 12 34")
        self.env["res.partner"].create({"name": "Jane Doe", "parent_id": acme.id, "mobile": "0470 12 34 56"})
        self.env.cr.flush()
        self.assertIsNone(self.redis.hget(BOOK, "+32470123456"))  # not before the commit
        self.commit_hooks()
        self.assertEqual(self.redis.hget(BOOK, "+32470123456"), "Jane Doe (Acme)")
        self.assertEqual(self.redis.hget(BOOK, "+3225551234"), "Acme")
        acme.name = "Acme Corp"  # the contact's entry names its company
        self.commit()
        self.assertEqual(self.redis.hget(BOOK, "+32470123456"), "Jane Doe (Acme Corp)")

    def test_a_number_changed_or_a_contact_archived_or_deleted_leaves_the_phonebook(self):
        jane = self.contact("Jane", phone="0470 12 34 56")
        jane.phone = "0470 99 99 99"
        self.commit()
        self.assertEqual(self.redis.hgetall(BOOK), {"+32470999999": "Jane"})
        twin = self.contact("Twin", mobile="0470 99 99 99")
        jane.active = False
        self.commit()
        self.assertEqual(
            self.redis.hgetall(BOOK), {"+32470999999": "Twin"}
        )  # the number stays, someone has it
        twin.unlink()
        self.commit()
        self.assertEqual(self.redis.hgetall(BOOK), {})

    def test_rebuild_writes_the_whole_book_with_the_token_and_country_the_endpoint_reads(self):
        self.contact("Jane", phone="0470 12 34 56")
        self.redis.hset(BOOK, mapping={"+3299999999": "stale", "+32470123456": "stale"})
        admin = self.admin()
        admin["asterisk_plus.server"].browse(self.server.id).action_phonebook_rebuild()
        book = self.redis.hgetall(BOOK)
        self.assertEqual(book.get("+32470123456"), "Jane")
        self.assertNotIn("+3299999999", book)
        meta = self.redis.hgetall(META)
        token = self.server.phonebook_token
        self.assertTrue(token and len(token) >= 32)
        self.assertEqual((meta["token"], meta["country"], meta["count"]), (token, "BE", str(len(book))))
        self.env["asterisk_plus.phonebook"]._cron_rebuild()
        self.assertEqual(self.redis.hget(META, "token"), token)  # the token stays across rebuilds
        admin["asterisk_plus.server"].browse(self.server.id).action_phonebook_new_token()
        self.commit_hooks()
        self.assertNotEqual(self.server.phonebook_token, token)
        self.assertEqual(self.redis.hget(META, "token"), self.server.phonebook_token)
        self.assertIn(f"token={self.server.phonebook_token}", self.server.phonebook_dialplan)
        self.assertNotIn("<press Rebuild>", self.server.phonebook_dialplan)

    def test_only_asterisk_admins_rebuild_or_change_the_token_and_read_it(self):
        user = self.plain_user()
        server = user["asterisk_plus.server"].browse(self.server.id)
        before = self.redis.hgetall(META)
        for method in ("action_phonebook_rebuild", "action_phonebook_new_token"):
            with self.subTest(method=method), self.assertRaises(AccessError):
                getattr(server, method)()
        with self.assertRaises(AccessError):
            server.read(["phonebook_token"])
        self.commit_hooks()
        self.assertEqual(self.redis.hgetall(META), before)

    def test_a_server_that_does_not_publish_is_left_alone(self):
        self.server.phonebook_enabled = False
        self.commit()
        self.contact("Jane", phone="0470 12 34 56")
        self.assertEqual(self.redis.hgetall(BOOK), {})
