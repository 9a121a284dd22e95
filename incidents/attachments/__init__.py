"""Documents beside the records: attachments on incidents, judicial cases and stage events.

A police report, an indictment, a judgment or a photograph of the scene is kept with the
record it documents and under the same access rule (:mod:`incidents.attachments.policy`):
whoever sees the record sees its attachments, except those marked as holding personal
data, which only those who may see identities list or download. The files themselves are
kept by content (their SHA-256) on the instance folder's disk or in S3-compatible object
storage (:mod:`incidents.attachments.storage`); what a file is, is decided from its
content (:mod:`incidents.attachments.intake`), never from its name.
"""
