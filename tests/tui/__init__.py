"""Console (Textual) tests."""
