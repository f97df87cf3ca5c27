"""The medication-safety rules engine and the pharmacist-maintained rule files (YAML)."""
