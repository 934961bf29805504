"""Custom actions of the triage assistant (rasa_sdk).

One module per capability; each action is thin glue over the plain
functions in actions.core. rasa_sdk finds the actions by walking this
package.
"""
