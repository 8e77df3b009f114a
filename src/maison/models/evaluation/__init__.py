"""`maison eval vip`: the future-VIP model against early-spend and BG/NBD baselines."""
