"""Judicial follow-up: cases, defendants, stage events, progress reports and assistance."""
