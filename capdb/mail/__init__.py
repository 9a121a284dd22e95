"""Outgoing mail: the outbox, the transports, and the job that sends.

Knows no feature: features write their messages (:class:`capdb.mail.outbox.Mail`) and queue
them with :func:`capdb.mail.outbox.queue_mail`.
"""
