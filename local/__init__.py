"""Run leadscore without AWS or Docker: moto in-process, driven entirely by template.yaml."""
