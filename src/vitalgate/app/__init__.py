"""The composition root: CLI, demo, embedded services and the wiring between packages. Nothing imports it."""
