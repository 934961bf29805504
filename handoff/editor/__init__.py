"""The editors' loop (issue 15): the review inbox, changes to data/, training, publishing, figures."""
