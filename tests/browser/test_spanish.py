"""A tablet set to Spanish: the welcome screen speaks Spanish (<html lang="es">) and passes
the same layout and axe-core checks as the English pages; the buttons switch language."""

import pytest
from playwright.sync_api import expect

from .checks import layout_problems

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("device", ["tablet-portrait", "phone"])
def test_a_spanish_browser_gets_the_welcome_screen_in_spanish(
    app, server_url, open_device, screenshot, device
):
    page = open_device(device, locale="es-MX")
    page.goto(server_url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_have_text("Le damos la bienvenida")
    expect(page.get_by_role("button", name="Español")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_role("button", name="English")).to_have_attribute("aria-pressed", "false")
    screenshot(page, f"spanish/{device}-welcome")
    assert layout_problems(page) == []

    page.get_by_role("button", name="Empezar").click()
    page.get_by_role("button", name="Continuar").click()  # nothing typed: errors, in Spanish
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("alert")).to_contain_text("Por favor, escriba su nombre completo.")
    birth = page.get_by_role("group", name="Su fecha de nacimiento")
    expect(birth.get_by_label("Día")).to_be_visible()
    screenshot(page, f"spanish/{device}-about-errors")
    assert layout_problems(page) == []


def test_the_buttons_switch_the_language(app, server_url, open_device):
    page = open_device("tablet-portrait", locale="en-US")
    page.goto(server_url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("button", name="Español").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_text("Antes de su tratamiento")).to_be_visible()
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome")
