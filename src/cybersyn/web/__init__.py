"""The REST API and the operations-room pages (Opsroom)."""
