"""Customer value models: scikit-learn style estimators over per-client summaries.

`maison.models.clv` holds the buy-till-you-die models (BG/NBD, Pareto/NBD) and the Gamma-Gamma
spend model; churn risk is `probability_alive` of a fitted transaction model. Models see only
the summaries their caller built from consented purchase history.
"""
