"""The phonebook: the caller's name for the dialplan (`CURL()`) and a remote phonebook for desk phones, read
from the number -> name hash Odoo publishes into Redis, so names keep coming while Odoo is down."""
