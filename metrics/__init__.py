"""Paddock metrics."""
