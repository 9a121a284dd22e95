"""Incidents, victims, judicial cases and assistance; the access rule; forms, pages, API."""
