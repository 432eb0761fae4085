"""Assessment of a factory against an index system (zero-carbon factory, green factory): the system as data
(:mod:`.index`) and the scoring of metric values against it (:mod:`.scoring`). Pure: no I/O beyond reading the
shipped systems."""
