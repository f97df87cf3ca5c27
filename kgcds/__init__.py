"""kgcds: the composition root (settings and the command-line tool) that wires the packages together."""
