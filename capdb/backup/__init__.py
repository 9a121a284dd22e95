"""Backup and restore of the whole of capdb: ``flask --app wsgi backup|restore``."""
