"""CDS Hooks 2.0 services (Litestar)."""
