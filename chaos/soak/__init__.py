"""The soak run: `python -m chaos.soak` (`make soak`)."""
