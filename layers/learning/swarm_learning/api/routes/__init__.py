"""Groups of routes (Powertools ``Router``s) that a function's resolver includes."""
