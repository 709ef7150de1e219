"""speechmill's corpus contract, sources and cleaning steps (pure functions, no Beam wiring)."""
