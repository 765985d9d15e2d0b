"""The app as gunicorn serves it for the benchmark, plus one hello-world view to compare with.

Configured from the environment like production (DATABASE_URL, SECRET_KEY, ...).
"""

from flask import Blueprint

from consentapp import create_app

hello = Blueprint("bench_hello", __name__)


@hello.get("/bench/hello")
def hello_world():
    return "Hello, world!"


app = create_app()
app.register_blueprint(hello)
