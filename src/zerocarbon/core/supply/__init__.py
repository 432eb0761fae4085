"""Supply chain: Scope 3 logistics, packaging, recycling and supplier calculations (pure functions)."""
