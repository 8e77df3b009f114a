"""Consent vocabulary, ledger and the one policy function every reader of client data calls."""
