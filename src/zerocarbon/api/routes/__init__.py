"""One router per resource; each endpoint names the action of ``core.access`` it requires."""
