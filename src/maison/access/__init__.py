"""API keys: write keys for ingestion (stored hashed), later admin/associate scopes."""
