"""A real browser through deploy/Caddyfile (tests/https_front.py): Debian's Chromium whose
certificate store holds the clinic's root, as a tablet's does once trusted."""

import os
import shutil
import subprocess

import pytest

from ..conftest import STAFF_PASSWORD
from .conftest import CHROMIUM_FLAGS


@pytest.mark.browser
def test_a_browser_that_trusts_the_clinics_root_signs_in_and_starts_a_patient(
    chromium, front, auth, tmp_path, page_problems
):
    """Debian's Chromium, its certificate store (NSS, as on a tablet) holding the clinic's root
    and nothing else of ours: the forms post over HTTPS (Flask-WTF wants the page's address as
    Referer there, which the Referrer-Policy must let the browser send)."""
    certutil = shutil.which("certutil")
    assert certutil, "certutil (libnss3-tools) is required for this test (.ci/run installs it)"
    nssdb = tmp_path / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    subprocess.run([certutil, "-d", f"sql:{nssdb}", "-N", "--empty-password"], check=True)
    subprocess.run([certutil, "-d", f"sql:{nssdb}", "-A", "-t", "C,,", "-n", "clinic-root",
                    "-i", str(front.root_cert)], check=True)
    auth.create("frontdesk@example.org", role="frontdesk")
    # A browser of its own (the session's has another HOME), from the same Playwright.
    browser = chromium.browser_type.launch(
        executable_path=shutil.which("chromium"), args=CHROMIUM_FLAGS,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    try:
        page = browser.new_page()
        page.set_default_timeout(10_000)
        page_problems.watch(page)
        page.goto(f"{front.base_url}/staff/login")
        page.get_by_label("Email").fill("frontdesk@example.org")
        page.get_by_label("Password").fill(STAFF_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{front.base_url}/staff/")
        assert page.get_by_role("button", name="Start a patient on this tablet").is_visible()
        page.goto(f"{front.base_url}/")
        page.get_by_role("button", name="Start").first.click()
        page.wait_for_url(f"{front.base_url}/step/about")
    finally:
        browser.close()


