"""Rendering: text tables, Markdown and JSON for offers, plans and reports."""
