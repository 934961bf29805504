"""E-mail: the mail the desk sends (compose, relay, worker) and receives."""
