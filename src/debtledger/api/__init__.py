"""The REST API: thin routes over the services; errors as application/problem+json."""
