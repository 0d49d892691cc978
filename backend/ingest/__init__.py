"""Ingestion: validate device/integration payloads and store them idempotently."""
