"""Runs scenarios on images: each scenario x image cell in its own fresh VM."""
