"""The editors' loop (issue 15): customer messages reviewed, turned into changes of data/, checked, trained.

One module per concern: ``project`` plans and writes the changes to the project's
files (and commits them to an ``editor/<name>`` branch), ``validation`` checks
the result with Rasa and with the project's own content rules.
"""
