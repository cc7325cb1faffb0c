"""Floor 4, the command line: `build`, `stylize`, `add-style`. Nothing below imports it."""
