"""Judging a model: metrics, exact sums, scoring a test set, the gates, and the hyperparameter search."""
