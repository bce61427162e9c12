"""Runs scenarios on images: each scenario x image cell on a clean machine (a reverted
snapshot or a fresh boot)."""
