"""Files an attacker uploads to the Verify page, built in a blink."""


def tiny_dictionaries(count: int) -> bytes:
    """A well-formed PDF whose catalog holds `count` tiny dictionaries: cheap to build, and a
    parser that reads it whole makes an object of each (1.5 million: about 16.5 MB, which held
    a web worker 30 s at 1.1 GB before verification was bounded)."""
    head = b"%PDF-1.7\n"
    catalog = (b"1 0 obj\n<</Type/Catalog/Pages 2 0 R/X[" + b"<</Key 1>> " * count
               + b"]>>\nendobj\n")
    pages = b"2 0 obj\n<</Type/Pages/Kids[]/Count 0>>\nendobj\n"
    xref = (b"xref\n0 3\n0000000000 65535 f \n%010d 00000 n \n%010d 00000 n \n"
            % (len(head), len(head) + len(catalog)))
    trailer = (b"trailer\n<</Size 3/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n"
               % (len(head) + len(catalog) + len(pages)))
    return head + catalog + pages + xref + trailer
