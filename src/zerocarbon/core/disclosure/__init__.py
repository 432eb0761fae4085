"""Disclosure: framework data points (a catalogue shipped as data), the facts that fill them, and reports."""
