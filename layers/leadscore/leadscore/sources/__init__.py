"""Webhook sources: one module per provider, each `verify`-ing and `normalise`-ing its own payloads."""
