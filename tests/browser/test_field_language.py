"""The field app shows the server's messages in its own language: it asks the API for that
language (Accept-Language) whatever the browser's, so an English app never shows a Vietnamese
refusal, and a Vietnamese app in an English browser stays Vietnamese."""
import pytest
from playwright.sync_api import expect


@pytest.mark.browser
@pytest.mark.parametrize("app_language,browser_locale,expected", [
    ("en", "vi-VN", "Wrong username or password."),
    ("vi", "en-US", "Sai tên đăng nhập hoặc mật khẩu."),
])
def test_a_refused_sign_in_reads_in_the_apps_language(live_server, browser, app_language,
                                                      browser_locale, expected):
    context = browser.new_context(locale=browser_locale)
    context.add_init_script(f"localStorage.setItem('cchc-lang', '{app_language}')")
    page = context.new_page()
    page.goto(live_server.url + "/app/")
    page.fill("input[name=username]", "inspector1")
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    expect(page.locator("p.form-error[role=alert]").first).to_have_text(expected)
    context.close()
