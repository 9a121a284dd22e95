"""Saved views: users' named filters of the list, the map and the trends page."""
