"""Learning: the meta-learner's cycle (trigger, run, pattern refresh, insights) and the reads of what it learned."""
