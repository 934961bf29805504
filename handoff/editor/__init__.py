"""The editors' loop: customer messages the bot handled badly, reviewed and
turned into training data, checked, trained, scored and published.

One module per concern: ``review`` finds and groups the messages (with
``similarity``), ``project`` plans and writes the changes to the project's
files (``branch``: as a commit on an ``editor/<name>`` branch, or a patch),
``validation`` checks the result with Rasa and the project's content rules,
``training`` trains, scores and publishes models, ``figures`` and ``charts``
say whether the bot is getting better, and ``desk`` ties them together for
the API (handoff/api/editor.py).
"""
