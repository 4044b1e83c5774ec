"""FastAPI application: readings, worklist, and (later) pairing, charts, FHIR."""
