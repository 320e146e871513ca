"""`leadscore`: the operator's command line (outcomes import, replay, rescore, evaluate). Not in the Lambda layer."""
