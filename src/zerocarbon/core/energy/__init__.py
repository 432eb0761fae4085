"""Factory energy data: interval normalisation, roll-ups, idle load, measurement & verification."""
