"""Widgets of the runs and run screens."""
