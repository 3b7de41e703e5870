"""Paddock arena."""
