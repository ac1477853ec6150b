"""Archive import by event time (issue 25): the storage side of ``lib/archive`` - raw hours, originals, ledger."""
