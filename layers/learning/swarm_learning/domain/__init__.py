"""Pure maths and rules: counters, statistics, trust, routing, features, patterns, the learning cycle (no AWS)."""
