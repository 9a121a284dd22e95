"""Boundaries, admin areas, maps, trend statistics and the periodic report."""
