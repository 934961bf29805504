"""The desk's e-mail channel: reading inbound mail (``parse``, ``quotes``,
``loops``) and the SMTP server that receives it (``server``). What a mail
does to tickets is decided in ``handoff.services.inbound_mail``."""
