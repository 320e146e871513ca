"""The ledger: every accepted LeadEvent and what it did to each model's score (records, replay, sinks)."""
