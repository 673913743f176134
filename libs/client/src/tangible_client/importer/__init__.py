"""`tangible-client import FILE`: historical usage into usage-ingest's import route."""
