"""Catalog file formats → typed offer rows (one ``Part`` per file) with their provenance."""
