from . import call, helpdesk_ticket
