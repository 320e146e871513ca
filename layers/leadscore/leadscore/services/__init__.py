"""Use cases: ingest a webhook, score an event. They talk to ports, never to boto3."""
