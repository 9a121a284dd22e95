"""Clarification requests and comments between a Member State and the mission."""
