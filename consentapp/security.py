"""Response headers every page gets: a strict CSP and no caching of patient or record pages."""

from flask import Flask, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


def _set_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    # The page's address goes back to this site alone, never to another: Flask-WTF refuses a
    # form posted over HTTPS without a same-origin Referer (its check against forged posts),
    # so "no-referrer" broke every form once the site was served over HTTPS.
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    hsts_seconds = current_app.config["HSTS_SECONDS"]
    if hsts_seconds and request.is_secure:
        headers.setdefault("Strict-Transport-Security", f"max-age={hsts_seconds}")
    if request.endpoint != "static":
        # Patient answers and records must never sit in a shared tablet's cache.
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    return response


def init_app(app: Flask) -> None:
    app.after_request(_set_headers)
    x_for, x_proto = app.config["PROXY_FIX_X_FOR"], app.config["PROXY_FIX_X_PROTO"]
    if x_for or x_proto:
        # Trust exactly as many proxies as configured; more would let clients forge addresses.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=x_for, x_proto=x_proto)
