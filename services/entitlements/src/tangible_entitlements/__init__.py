"""entitlements: what each account may use, how much is left, and why."""
