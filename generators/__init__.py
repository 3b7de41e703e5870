"""Paddock generators."""
