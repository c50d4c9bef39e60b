from . import call, crm_lead, lookup, phonebook, res_config_settings
