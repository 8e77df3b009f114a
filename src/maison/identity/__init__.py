"""Identity resolution: one client per person across web, app, store and email."""
