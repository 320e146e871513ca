"""leadscore: lead scoring on AWS serverless (shared package, shipped as a Lambda layer)."""
