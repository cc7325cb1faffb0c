"""Floor 4, `make bench`: speed (speed.py), batched, browser and quality tables, and serve.py, the
local HTTP server of the browser bench and the browser tests. The yardsticks they measure against
live in generator.yardsticks, which imports nothing of the project."""
