"""Aggregate, non-personal figures over all clients: sales, ratings, views, saves, open times."""
