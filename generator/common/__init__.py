"""Floor 0: what every floor shares and that imports nothing of the project (errors, paths, numbers, atomic writes)."""
