"""Trust quality benchmark: does the trust maths agree with the ground truth of a simulated swarm? (``python -m bench.trust_quality``)."""
