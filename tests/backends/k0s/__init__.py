"""k0s layer tests."""
