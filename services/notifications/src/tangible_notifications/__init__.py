"""notifications: turns the other services' events into messages people read."""
