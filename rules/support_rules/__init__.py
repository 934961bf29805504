"""Rules the bot and the handoff service share, defined once.

Pure Python: no Rasa, Sanic or SQLAlchemy import (tests/rules checks it), so
both virtual environments install it (``make`` does, as an editable install
of ``rules/``) and import the same facts:

- ``tickets``: ticket numbers (``T-000123``) and statuses, the intents the
  handoff service triggers when an agent is done;
- ``limits``: message size and how a wait is rounded for a customer;
- ``language``: the supported languages and the fallback;
- ``masking``: card numbers, IBANs, passwords and codes masked;
- ``catalogue``: the editors' departments, topics and transaction types
  (data/catalogue.yml) with fuzzy matching; ``text``: the folding it uses;
  ``inflection``: the Turkish and English forms of the catalogue's words.
- ``notices``: the editors' notices files, each notice in every language.
- ``retention``: the one age after which every store forgets a conversation;
- ``rasa_auth``: the JWT every caller of Rasa's HTTP API sends in a header;
- ``identity``: how the bot names the customer asking (verified or typed
  username, the status request's headers).
- ``customer_token``: the platform's signed customer token, verified (and,
  for demos and tests, minted) once for the bot and the customer panel.
"""
