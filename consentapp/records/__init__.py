"""The record pipeline, no screens: it imports neither side (patient/, staff/) and knows no
request; both sides call it.

commit        every rule of a valid record, and the transaction that writes it (Submission)
jobs          the render outbox and the one worker loop (thread and `worker` command)
document      the plain data a PDF is rendered from      attachment  the JSON embedded in it
render        WeasyPrint behind a locked-down fetcher    labels      the PDF's words
seal          the clinic's PAdES seal (pyHanko)          clinic_key  the key that seals
verify        the verdict on a PDF (exit 0, 1 or 2)      verification  the code on every page
events        the hash-chained history                   status      the staff status projection
search        the dashboard's query                      decisions   review, countersign, withdraw
patient_copy  the single-use copy link                   preview     `forms preview`'s sample
fhir          FHIR R4 export                             signature   drawn signatures' strokes
"""
