"""Telling people what needs them: notifications by mail and on their own page, digests,
and the work queues of each role's home page."""
