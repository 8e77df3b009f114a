"""Maison: a customer data platform with consent-first personalization for premium retail."""

__version__ = "0.1.0"
