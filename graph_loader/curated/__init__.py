"""Clinical knowledge the project authors itself (YAML), loaded by the adapters next to the source adapters."""
