"""A tablet over real HTTP that can lose an answer: the request is sent, the answer never
arrives (the server died, the Wi-Fi dropped), so the cookies stay as they were."""

import http.client
import re
import time
import urllib.parse
from http.cookies import SimpleCookie

from tests.journey import RIGHT_ANSWERS, drawn_signature, screening_answers

TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


class Lost(Exception):
    """The request went out and no answer came back."""


class Answer:
    def __init__(self, status: int, location: str, text: str, elapsed: float):
        self.status, self.location, self.text, self.elapsed = status, location, text, elapsed

    @property
    def path(self) -> str:
        return urllib.parse.urlsplit(self.location).path


class Tablet:
    def __init__(self, port: int, timeout: float = 60):
        self.port, self.timeout = port, timeout
        self.cookies: dict[str, str] = {}
        self.page = ""
        self.answers: list[Answer] = []  # every answer that arrived, for counting 5xx

    def request(self, method: str, path: str, form: dict | None = None,
                chaos: str | None = None) -> Answer:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if chaos:
            headers["X-Chaos"] = chaos
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        started = time.monotonic()
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
        except (http.client.HTTPException, ConnectionError) as exc:
            raise Lost(f"{method} {path}: {type(exc).__name__}") from None
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        answer = Answer(response.status, response.headers.get("Location", ""), text,
                        time.monotonic() - started)
        self.answers.append(answer)
        return answer

    def get(self, path: str, chaos: str | None = None) -> Answer:
        answer = self.request("GET", path, chaos=chaos)
        while answer.status in (301, 302, 303):
            answer = self.request("GET", answer.path)
        if answer.status == 200:
            self.page = answer.text
        return answer

    def form(self, extra: dict) -> dict:
        token = TOKEN.search(self.page)
        if not token:
            raise AssertionError("no CSRF token on the page")
        return {**extra, "csrf_token": token[1]}

    def post(self, path: str, data: dict, chaos: str | None = None,
             form: dict | None = None) -> Answer:
        """POST, then follow the redirect as a browser would (the page lands in self.page)."""
        answer = self.request("POST", path, form if form is not None else self.form(data),
                              chaos=chaos)
        if answer.status in (301, 302, 303):
            landed = self.get(answer.path)
            landed.redirected_from = answer
            landed.landed_on = answer.path
            return landed
        if answer.status == 200:
            self.page = answer.text
        answer.landed_on = path
        return answer

    # -- the journey -----------------------------------------------------------------------
    def start(self) -> Answer:
        self.get("/")
        return self.post("/start", {"procedure": "microneedling"})

    def to_signature(self, name: str, *screening_yes: str, photos: tuple[str, ...] = ()) -> None:
        steps = [
            ("about", {"full_name": name, "date_of_birth-day": "5",
                       "date_of_birth-month": "5", "date_of_birth-year": "1970"}),
            ("concerns", {"concerns": ["pores"], "areas": ["face"], "goals": "Smaller pores"}),
            # The health questions, page by page, as the tablet shows them.
            *screening_answers(*screening_yes).items(),
            ("outcome", {}), ("expect", {}), ("benefits", {}), ("risks", None),
            ("alternatives", {}), ("before_visit", {}), ("aftercare", {}),
            ("understanding", RIGHT_ANSWERS), ("signer", {"signer": "self"}),
            ("photos", {kind: "y" for kind in photos}), ("review", {}), ("esign", {"agree": "y"}),
        ]
        answer = self.start()
        for step, data in steps:
            if data is None:
                data = {key: "y" for key in re.findall(r'name="(ack_[a-z_]+)"', self.page)}
            answer = self.post(f"/step/{step}", data)
            if answer.status != 200:
                raise AssertionError(f"/step/{step}: {answer.status}")
        if answer.landed_on != "/step/sign":
            raise AssertionError(f"the journey ended on {answer.landed_on}, not the sign page")

    def sign_form(self, name: str) -> dict:
        agree = {key: "y" for key in re.findall(r'name="(agree_[a-z_]+)"', self.page)}
        return self.form({**agree, "signer_name": name, "signature_method": "drawn",
                          "signature": drawn_signature()})

    def sign(self, name: str, chaos: str | None = None, form: dict | None = None) -> Answer:
        return self.post("/step/sign", {}, chaos=chaos, form=form or self.sign_form(name))


def copy_code(page: str) -> str | None:
    """The QR code of the patient-copy link a finish page shows (the same link draws the
    same code), or None."""
    match = re.search(r'class="patient-copy-qr".*?<path d="([^"]+)"', page, re.S)
    return match.group(1) if match else None
