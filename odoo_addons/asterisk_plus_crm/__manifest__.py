{
    "name": "Asterisk Plus CRM",
    "summary": "Asterisk calls in CRM: leads found by number, calls on leads, click-to-call, "
    "leads from missed calls, the caller's opportunity in the pop-up",
    "version": "1.0.0",
    "category": "Sales/CRM",
    "license": "LGPL-3",
    "author": "PBX Agent",
    "website": "https://example.invalid/pbx-agent",
    "depends": ["crm", "asterisk_plus"],
    "data": [
        "views/crm_lead_views.xml",
        "views/call_views.xml",
        "views/res_config_settings_views.xml",
    ],
    "installable": True,
    "auto_install": False,
}
