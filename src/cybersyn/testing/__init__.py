"""Semantic test helpers that the tests and users' own checks share.

Each package adds `cybersyn/testing/<package>.py` and one re-export line below.
"""
