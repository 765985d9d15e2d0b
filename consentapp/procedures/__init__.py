"""Procedure definitions as data: what a patient is shown, asked and offered.

schema        the shape of a definition (pydantic models), strict; format 2 and format 1
conditions    the condition language of rules (`when`) and follow-ups (`show_if`)
loader        reading forms/SLUG/LANG.toml, errors naming the file and the key
translations  what every translation must share with its English file
catalog       the procedures on offer, and the stored definition a record pinned
eligibility   the screening rules applied to the answers, the age and the areas (a pure
              function), and which questions a patient is shown
answers       the answers and reasons as text (review screen, PDF, staff page)
care          before each visit, aftercare and when to call, with the clinic's numbers
steps         the one registry of built-in steps: their keys, order and handler kind
consents      the fixed consents every procedure asks for (e-sign disclosure, photos)
"""
