"""Pages served to clients: the privacy dashboard (`/privacy?token=…`).

Server-rendered HTML, no JavaScript, no cookies, nothing loaded from another origin.
"""
