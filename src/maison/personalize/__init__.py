"""Personalisation at three depths: weekly digests, send times, personalised product pages."""
