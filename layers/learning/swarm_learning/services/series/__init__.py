"""Series: the dashboard's time series (workspace and agent days, trust over time, routing choices)."""
