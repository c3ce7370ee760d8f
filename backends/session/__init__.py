"""The session: one cluster's hosts and the feature services the console and headless verbs use."""
