"""The synthetic raters of the quality tests live in hitl.simulate.rows (the flag-calibration benchmark uses them
too); this module keeps the tests' short import."""

from hitl.simulate.rows import KINDS, Item, Rater, Simulation, make_items, row, simulate

__all__ = ["KINDS", "Item", "Rater", "Simulation", "make_items", "row", "simulate"]
