"""Benchmarks of carbontwin: each module measures figures against a reference run alongside.

Run them with ``make bench`` (all) or ``make bench ONLY=name`` (one); see README.md.
"""
