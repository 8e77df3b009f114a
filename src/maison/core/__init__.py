"""Settings, database, errors and time helpers shared by every capability."""
