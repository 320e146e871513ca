"""`leadscore train`: point-in-time training examples from the ledger, a calibrated logistic regression,
and the artefact `leadscore.predictive` serves (needs the `train` extra: scikit-learn)."""
