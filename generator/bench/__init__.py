"""Floor 4, `make bench`: speed (speed.py), batched, browser and quality tables. The yardsticks they
measure against live in generator.yardsticks, which imports nothing of the project."""
