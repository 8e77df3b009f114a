"""Offline evaluations (`maison eval ...`): each one run compares Maison's models with baselines."""
