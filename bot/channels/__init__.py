"""Customer channels: Rasa's socket.io and REST channels with our fixes.

``credentials.yml`` names the two input channels
(``bot.channels.socketio_input.TriageSocketIOInput``,
``bot.channels.rest_input.TriageRestInput``) instead of Rasa's own. They
keep the channel names ``socketio`` and ``rest``, so
``output_channel=latest`` (how the handoff service reaches a customer)
finds them.

One concept a module:

- ``access``: which conversation a client may speak for. The channel picks
  a new conversation's id and issues its secret (support_rules.
  conversations); naming a conversation without its secret is refused with
  a notice and joins or writes nothing (the id alone was enough before).
- ``text``: what customer text NLU may see (no leading "/": Rasa reads
  ``/intent{...}`` as a ready-made intent and ``/restart`` un-pauses a
  handed-off conversation; cut at the limit in bot/settings.py) and the
  message metadata: only the keys the product reads, and not the customer
  token when it is over ``CHANNEL_MAX_METADATA_BYTES``.
- ``formatting``: bot messages on the socket carry the sender metadata the
  web chat shows (agent name, notice).
- ``held``: the replies to one customer message, held until Rasa has
  handled it and so stored the turn. Rasa itself emits each reply as its
  action runs and stores the turn afterwards: a replica dying in between
  showed the customer replies to a message the conversation then did not
  hold. Now a customer sees a reply only to what is stored.
- ``replay``: a message sent again (``resend: true``) with the
  ``message_id`` it carried before (the web chat resends what the server
  did not acknowledge when its socket died) is not handled twice: if the
  conversation already holds it, its stored replies are sent again.
- ``notices``: what a channel tells the customer itself (a message whose
  handling failed: send it again), worded in data/channel_notices.yml.
- ``turn``: the one turn protocol both channels follow (clean, replay or
  handle, release or discard, notice).
- ``socketio_input``: a session is joined only with its secret, the room join is awaited (python-socketio >= 5.10
  made ``enter_room`` a coroutine, RasaHQ/rasa#13027), a socket may only
  speak for the session it joined, malformed payloads are dropped, and with
  ``SOCKETIO_REDIS_URL`` a Redis client manager lets a push handled by one
  Rasa replica reach a socket held by another (sticky sessions still needed).
- ``rest_input``: the same turn, answered once it is stored, a failed turn
  with 503 and a notice, a malformed body with 400, a conversation named
  without its secret (``X-Conversation-Secret``) with 403 and a notice.

Building either channel's blueprint installs bot/schema_checks.py, so every
Rasa server with our credentials has it.
"""
