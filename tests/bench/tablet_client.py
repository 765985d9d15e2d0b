"""A patient's tablet over real HTTP: cookies, CSRF tokens from each page, one journey.

Standard library HTTP, so the load it makes is the same whatever is installed; the answers
are the test suite's (tests/journey.py), so both follow the flow as it changes.
"""

import http.client
import re
import time
import urllib.parse
from http.cookies import SimpleCookie

from tests.journey import RIGHT_ANSWERS, drawn_signature, screening_answers

TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


class UnexpectedResponse(Exception):
    pass


class Tablet:
    """One tablet. With several ports (app servers behind one address, as a load balancer
    would spread them), its requests go to each in turn: nothing may live in one process."""

    def __init__(self, host: str, port: int | list[int]):
        ports = port if isinstance(port, list) else [port]
        self.connections = [http.client.HTTPConnection(host, p, timeout=60) for p in ports]
        self.turn = 0
        self.cookies: dict[str, str] = {}
        self.page = ""
        # Milliseconds each step page took to arrive: what a patient waits for after a tap.
        self.step_page_ms: list[float] = []
        self.finished_page = ""

    @property
    def connection(self) -> http.client.HTTPConnection:
        connection = self.connections[self.turn % len(self.connections)]
        self.turn += 1
        return connection

    def close(self) -> None:
        for connection in self.connections:
            connection.close()

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = self.connection
        started = time.perf_counter()
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        if method == "GET" and path.startswith("/step/"):
            self.step_page_ms.append((time.perf_counter() - started) * 1000)
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response.status, response.headers.get("Location", ""), text

    def get(self, path: str) -> str:
        status, location, text = self.request("GET", path)
        if status == 302:
            return self.get(urllib.parse.urlsplit(location).path)
        if status != 200:
            raise UnexpectedResponse(f"GET {path}: {status}")
        self.page = text
        return text

    def post(self, path: str, form: dict, expect: str | None = None) -> str:
        token = TOKEN.search(self.page)
        if not token:
            raise UnexpectedResponse(f"no CSRF token before POST {path}")
        status, location, text = self.request("POST", path, {**form, "csrf_token": token[1]})
        if status != 302:
            raise UnexpectedResponse(f"POST {path}: {status}")
        target = urllib.parse.urlsplit(location).path
        if expect and target != expect:
            raise UnexpectedResponse(f"POST {path} went to {target}, not {expect}")
        return self.get(target)

    def to_signature(self, name: str) -> None:
        for _ in self.steps_to_signature(name):
            pass

    def steps_to_signature(self, name: str):
        """The journey up to the signature page, one page at a time: it yields after each
        page a patient answers (a post and the page it leads to)."""
        self.get("/")
        self.post("/start", {"procedure": "microneedling"}, "/step/about")
        yield
        self.post("/step/about", {"full_name": name, "date_of_birth-day": "5",
                                  "date_of_birth-month": "5", "date_of_birth-year": "1970"})
        yield
        self.post("/step/concerns", {"concerns": ["pores"], "areas": ["face"],
                                     "goals": "Smaller pores"})
        yield
        # The health questions, page by page; the last leads to the outcome.
        steps = screening_answers()
        last = list(steps)[-1]
        for step, answers in steps.items():
            self.post(f"/step/{step}", answers, "/step/outcome" if step == last else None)
            yield
        for step in ("outcome", "expect", "benefits"):
            self.post(f"/step/{step}", {})
            yield
        risks = re.findall(r'name="(ack_[a-z_]+)"', self.page)
        self.post("/step/risks", {key: "y" for key in risks})
        yield
        for step in ("alternatives", "before_visit", "aftercare"):
            self.post(f"/step/{step}", {})
            yield
        self.post("/step/understanding", RIGHT_ANSWERS)
        yield
        self.post("/step/signer", {"signer": "self"})
        yield
        self.post("/step/photos", {})
        yield
        self.post("/step/review", {}, "/step/esign")
        yield
        self.post("/step/esign", {"agree": "y"}, "/step/sign")

    def sign(self, name: str) -> float:
        """Post the signature; returns the milliseconds until the response arrived."""
        agree = {key: "y" for key in re.findall(r'name="(agree_[a-z_]+)"', self.page)}
        token = TOKEN.search(self.page)[1]
        form = {**agree, "signer_name": name, "signature_method": "drawn",
                "signature": drawn_signature(), "csrf_token": token}
        started = time.perf_counter()
        status, location, _ = self.request("POST", "/step/sign", form)
        elapsed = (time.perf_counter() - started) * 1000
        if status != 302 or not location.endswith("/finished"):
            raise UnexpectedResponse(f"sign: {status} {location}")
        self.finished_page = self.get("/finished")
        return elapsed

    def journey(self, name: str) -> float:
        self.to_signature(name)
        return self.sign(name)
