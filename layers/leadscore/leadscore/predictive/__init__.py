"""Predictive scoring: a calibrated probability of conversion learned from outcomes, beside the rules.

`features.lead_features` (what the model sees of a lead's score item), `inference.Predictor` (serving,
pure Python) and `artefact` (the versioned JSON file `leadscore train` writes). Importing this package
imports nothing heavy: see README "Predictive scoring".
"""
