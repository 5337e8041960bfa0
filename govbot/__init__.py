"""政务通 (GovBot): cross-cutting pieces — settings, database, CLI, process supervision."""
