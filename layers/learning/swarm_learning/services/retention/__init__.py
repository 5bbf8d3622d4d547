"""Retention: the weekly cleanup of what is past its retention that TTL has not removed yet."""
