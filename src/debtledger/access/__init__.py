"""Who may call the API: organisations hosted by this service, their members and API keys."""
