"""The staff pages, grouped by job; staff/routes.py gives each its URL.

auth       signing in and out (throttled)        account    one's own password and session
dashboard  finding records, the review queue     export     the search as CSV
records    one record's page, PDFs, print, FHIR  decisions  review, countersign, withdraw
handover   starting a patient on this tablet     verify     checking a PDF, opening a code
admin      staff accounts and settings           audit      the audit log and its CSV
"""
