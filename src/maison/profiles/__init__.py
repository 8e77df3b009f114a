"""profiles capability."""
