"""Dagster wiring: definitions, resources, sensors and automation."""
