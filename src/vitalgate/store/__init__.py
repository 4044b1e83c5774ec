"""Database layer: schema migrations and every SQL query of VitalGate."""
