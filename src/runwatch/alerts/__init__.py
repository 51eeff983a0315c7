"""Alerts (DESIGN section 14): `[notify]` rules, and the channels that reach a person."""

from runwatch.alerts.engine import Alerter
from runwatch.alerts.rules import Alert, allowed, message, transitions

__all__ = ["Alert", "Alerter", "allowed", "message", "transitions"]
