"""Request and response DTOs (XCreate / XUpdate / XRead) of the entitlements API."""
