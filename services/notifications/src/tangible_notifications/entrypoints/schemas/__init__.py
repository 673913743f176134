"""Request and response DTOs of the notifications API."""
