"""Optimisation models solved by HiGHS: dispatch, model-predictive control, reduction portfolios."""
