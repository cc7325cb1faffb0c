"""Independent yardsticks: a tutorial-style reference transfer (reference.py) and neural-style's
scorer (quality_score.py). They import nothing of the project, so they can judge it."""
