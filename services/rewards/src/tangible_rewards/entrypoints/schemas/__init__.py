"""Request and response DTOs of the rewards API."""
