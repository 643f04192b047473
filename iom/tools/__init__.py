"""Operational tools: supervision, widget page server, validation, launch helpers."""
