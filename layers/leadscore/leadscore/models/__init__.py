"""Pydantic models: the canonical event, scoring models, settings."""
