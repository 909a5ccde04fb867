"""HubSpot: a connection (a private app token or OAuth) and an incremental sync into the CRM."""
