"""Tests of the console (tui/, widgets/): Pilot runs, SVG snapshots, keymap, headless mode."""
