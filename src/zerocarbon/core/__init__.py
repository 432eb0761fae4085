"""Pure domain: dataclasses and functions with units. No I/O except reading shipped data files."""
