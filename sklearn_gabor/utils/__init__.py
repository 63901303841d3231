"""Utilities for sklearn-gabor."""
