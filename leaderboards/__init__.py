"""Paddock leaderboards."""
