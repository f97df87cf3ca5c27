"""Differential diagnosis: rank every annotated disease for a patient's HPO findings, and explain why."""
