"""rewards: milestones over usage, the rewards they grant, and the credit ledger."""
