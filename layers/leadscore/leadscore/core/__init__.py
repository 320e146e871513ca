"""The pure scoring core: no boto3, no Powertools, no I/O. Fast and testable alone."""
