"""Trust: scores from the statistics buckets, routing over their posteriors, and the periodic refresh."""
