"""Procedure definitions as data: what a patient is shown, asked and offered.

schema        the shape of a definition (pydantic models), strict
loader        reading forms/SLUG/LANG.toml, errors naming the file and the key
translations  what every translation must share with its English file
catalog       the procedures on offer, and the stored definition a record pinned
eligibility   the screening rules applied to the answers (a pure function)
answers       the answers as text, step by step (review screen, PDF, staff page)
steps         the one registry of built-in steps: their keys, order and handler kind
consents      the fixed consents every procedure asks for (e-sign disclosure, photos)
"""
