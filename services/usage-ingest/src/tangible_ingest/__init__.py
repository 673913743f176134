"""usage-ingest: accepts CloudEvents over HTTP and puts them durably on Kafka, once."""
