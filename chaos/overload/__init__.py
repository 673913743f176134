"""`make overload`: three times the pipeline's sustained rate offered to usage-ingest for a
minute through tangible-client; see `chaos/overload/__main__.py`."""
