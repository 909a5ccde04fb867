"""EcoOps maturity: the stage assessment, the integration registry and the EcoOps roadmap."""
