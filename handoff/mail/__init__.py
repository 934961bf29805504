"""The desk's e-mail channel: reading inbound mail (``parse``, ``quotes``,
``loops``) and the SMTP server that receives it (``server``), and the mail
the desk sends (``compose``, ``relay``, ``worker``). What a mail does to
tickets is decided in ``handoff.services.inbound_mail``; what goes out, in
``handoff.services.outbound_mail`` and ``mail_replies``."""
