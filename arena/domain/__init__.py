"""Rater and arena rules with no UI and no files: battles, scheduling, gold checks, abuse, duels, suites."""
