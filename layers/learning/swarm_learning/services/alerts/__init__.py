"""Alerts: the states of what is worth telling (agents' performance and trust, learning cycles,
routing), the alerts their changes raise, their events on the bus, and the alerts feed."""
