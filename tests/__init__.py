"""The project's pytest suite."""
