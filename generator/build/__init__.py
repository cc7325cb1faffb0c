"""Floor 3, the build: what is stale, computing it, the cache, the catalogue, the manifest, workers,
the log. Imports figures, the engine and common."""
