"""Segmenters: audio -> event spans with boundary reasons and class scores."""
