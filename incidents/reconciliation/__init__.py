"""Reconciliation of capdb's fatalities with the UN's published figures."""
