"""The compiled, read-only, in-memory knowledge index the rules engine and API read; built from any graph store."""
