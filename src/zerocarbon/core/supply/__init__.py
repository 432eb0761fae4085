"""The green supply chain: suppliers' scorecards and reduction programme, Scope 3 logistics and more."""
