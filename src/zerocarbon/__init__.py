"""zerocarbon: measure, cut and prove a factory's greenhouse-gas emissions."""
__version__ = "0.1.0"
