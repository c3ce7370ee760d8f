"""widgets package of k0s-tui."""
