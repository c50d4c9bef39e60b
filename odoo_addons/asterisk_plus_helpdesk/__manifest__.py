{
    "name": "Asterisk Plus Helpdesk",
    "summary": "Asterisk calls in OCA's Helpdesk: the caller's open tickets in the pop-up, a ticket from a "
    "call, calls on tickets, click-to-call from a ticket",
    "version": "1.0.0",
    "category": "After-Sales",
    "license": "AGPL-3",
    "author": "PBX Agent",
    "website": "https://example.invalid/pbx-agent",
    "depends": ["helpdesk_mgmt", "asterisk_plus"],
    "data": [
        "views/helpdesk_ticket_views.xml",
        "views/call_views.xml",
    ],
    "installable": True,
    "auto_install": False,
}
