"""Source adapters and the validating load pipeline: source files -> validated node/edge rows -> a graph store."""
