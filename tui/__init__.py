"""tui package of k0s-tui."""
