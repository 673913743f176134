"""Local real infrastructure for Tangible: Apache Kafka from Maven Central, embedded PostgreSQL."""
