"""`make demo`: Tangible working end to end in about a minute."""
