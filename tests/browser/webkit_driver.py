"""WebKit for the browser tests: Debian's WebKitWebDriver (package webkit2gtk-driver) drives
MiniBrowser, WebKitGTK's test browser, through Selenium, under an Xvfb display the harness
starts itself. This is the engine of Safari on the leaders' iPads; the Chromium tests run through
Playwright (conftest.py).

`find_webkit()` says what is missing, `Xvfb` is the display, `start_webkit()` a fresh browser,
and `WebKitPage` wraps Selenium with the few Playwright-like calls the tests need (`goto`,
`wait_for`, `wait_until`, `click`, `fill`, `evaluate`…). The fixtures in conftest.py put them
together (`webkit`, `webkit_sign_in`); tests/browser/README.md shows how to write a test.
"""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from selenium.common.exceptions import (
    JavascriptException,
    StaleElementReferenceException,
    TimeoutException,
    WebDriverException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait
from selenium.webdriver.webkitgtk.options import Options
from selenium.webdriver.webkitgtk.service import Service
from selenium.webdriver.webkitgtk.webdriver import WebDriver

# Where distributions put WebKitGTK's MiniBrowser (Debian: the first; Fedora: libexec).
MINIBROWSER_GLOBS = (
    "/usr/lib/*/webkit2gtk-4.*/MiniBrowser",
    "/usr/lib/*/webkitgtk-6.0/MiniBrowser",
    "/usr/libexec/webkit2gtk-4.*/MiniBrowser",
    "/usr/libexec/webkitgtk-6.0/MiniBrowser",
)
DEBIAN_PACKAGES = "webkit2gtk-driver xvfb"
# The tablet the app is made for: a 10-inch screen in landscape, as in the Chromium tests.
WINDOW = (1280, 800)
TIMEOUT = 10.0


@dataclass(frozen=True)
class WebKitInstall:
    """Where the driver, the browser and the X server are."""

    driver: str
    browser: str
    xvfb: str


def find_webkit() -> WebKitInstall | str:
    """The installed WebKit pieces, or a sentence saying what is missing and how to install it."""
    driver = shutil.which("WebKitWebDriver")
    browser = next((path for pattern in MINIBROWSER_GLOBS for path in sorted(glob.glob(pattern))
                    if os.access(path, os.X_OK)), None)
    xvfb = shutil.which("Xvfb")
    missing = [name for name, path in (("WebKitWebDriver", driver), ("MiniBrowser", browser),
                                       ("Xvfb", xvfb)) if not path]
    if missing:
        return (f"{' and '.join(missing)} not installed: apt-get install {DEBIAN_PACKAGES} "
                "(scripts/test.sh does it when run as root)")
    return WebKitInstall(driver, browser, xvfb)


class Xvfb:
    """A virtual X display for the browser windows; it picks a free display number itself."""

    def __init__(self, xvfb: str):
        read, write = os.pipe()
        try:
            self.process = subprocess.Popen(
                [xvfb, "-displayfd", str(write), "-screen", "0", f"{WINDOW[0]}x{WINDOW[1]}x24",
                 "-nolisten", "tcp", "-noreset"],
                pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        finally:
            os.close(write)
        with os.fdopen(read) as pipe:
            number = pipe.readline().strip()  # written once the server accepts connections
        if not number:
            self.process.kill()
            raise RuntimeError("Xvfb did not start")
        self.display = ":" + number

    def stop(self) -> None:
        """End the X server."""
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_webkit(install: WebKitInstall, display: str, log: Path | None = None) -> WebDriver:
    """A new MiniBrowser in automation mode on `display`, sized like the tablet. Each one has its
    own ephemeral storage (IndexedDB, service workers, cookies), gone when it quits."""
    options = Options()
    options.binary_location = install.browser
    options.add_argument("--automation")  # MiniBrowser accepts the driver only in this mode
    env = {key: value for key, value in os.environ.items() if key != "WAYLAND_DISPLAY"}
    env.update(DISPLAY=display, GDK_BACKEND="x11")
    service = Service(install.driver, env=env,
                      log_output=str(log) if log else subprocess.DEVNULL)
    driver = WebDriver(options=options, service=service)
    driver.set_window_size(*WINDOW)
    driver.set_script_timeout(TIMEOUT)
    return driver


class WebKitPage:
    """One browser driven like a person would, with waits instead of sleeps. CSS selectors
    throughout; `text=` narrows to elements whose visible text is exactly it, `has_text=` to
    those whose visible text contains it (as in Playwright)."""

    def __init__(self, driver: WebDriver, base_url: str, artifacts: Path | None = None,
                 timeout: float = TIMEOUT):
        self.driver = driver
        self.base_url = base_url
        self.artifacts = artifacts  # a folder for the driver's log and failure screenshots
        self.timeout = timeout

    def goto(self, path: str = "/app/") -> None:
        """Load `path` of the live server in the current tab."""
        self.driver.get(self.base_url + path)

    def restart(self, path: str = "/app/") -> None:
        """Close the app and open it again: a new tab, the old ones closed, as when the tablet
        starts the installed app anew. Storage and the service worker stay (same browser)."""
        old = self.driver.window_handles
        self.driver.switch_to.new_window("tab")
        new = self.driver.current_window_handle
        for handle in old:
            self.driver.switch_to.window(handle)
            self.driver.close()
        self.driver.switch_to.window(new)
        self.goto(path)

    def evaluate(self, script: str, *args):
        """Run `script` (a function body: `return …`) in the page; a returned promise is awaited."""
        return self.driver.execute_script(script, *args)

    def wait_until(self, script: str, *args, timeout: float | None = None, message: str = ""):
        """Wait until `script` (a function body, may return a promise) returns something truthy,
        and return it. Scripts that throw while the page is changing are tried again."""

        def check(driver):
            try:
                return driver.execute_script(script, *args)
            except JavascriptException:
                return False

        return self._wait(check, timeout, message or f"never true: {script}")

    def find_all(self, css: str, text: str | None = None, has_text: str | None = None,
                 visible: bool = True) -> list[WebElement]:
        """The elements that match now (visible ones only, unless `visible` is False)."""
        found = []
        for element in self.driver.find_elements(By.CSS_SELECTOR, css):
            try:
                if visible and not element.is_displayed():
                    continue
                if text is not None and element.text.strip() != text:
                    continue
                if has_text is not None and has_text not in element.text:
                    continue
            except StaleElementReferenceException:
                continue  # re-rendered while we looked
            found.append(element)
        return found

    def wait_for(self, css: str, text: str | None = None, has_text: str | None = None,
                 visible: bool = True, timeout: float | None = None) -> WebElement:
        """Wait for an element matching `css` (and `text` or `has_text`) and return it."""
        described = f"no element {css!r}" + (f" with text {text or has_text!r}"
                                             if text or has_text else "")
        return self._wait(lambda _: next(iter(self.find_all(css, text, has_text, visible)), None),
                          timeout, described)

    def wait_gone(self, css: str, text: str | None = None, has_text: str | None = None,
                  timeout: float | None = None) -> None:
        """Wait until no visible element matches."""
        self._wait(lambda _: not self.find_all(css, text, has_text), timeout,
                   f"{css!r} still shown")

    def click(self, css: str, text: str | None = None, has_text: str | None = None) -> None:
        """Click the element (scrolled into view first, as a finger would need)."""
        self._retry_stale(lambda: self._scrolled(self.wait_for(css, text, has_text)).click())

    def fill(self, css: str, value: str) -> None:
        """Replace the value of an input or textarea by typing `value` into it."""

        def type_in():
            element = self._scrolled(self.wait_for(css))
            element.clear()
            element.send_keys(value)

        self._retry_stale(type_in)

    def press_enter(self, css: str) -> None:
        """Press Enter in the element."""
        self._retry_stale(lambda: self.wait_for(css).send_keys("\ue007"))

    def text(self, css: str) -> str:
        """The visible text of the first element matching `css`."""
        return self._retry_stale(lambda: self.wait_for(css).text)

    def value(self, css: str) -> str:
        """The current value of an input, textarea or select."""
        return self._retry_stale(lambda: self.wait_for(css).get_property("value"))

    def set_files(self, css: str, *paths: str | Path) -> None:
        """Choose files in a file input, as picking them from the gallery does (hidden inputs
        are fine: the capabilities allow non-interactable file inputs)."""
        element = self.wait_for(css, visible=False)
        element.send_keys("\n".join(str(path) for path in paths))

    def screenshot(self, path: str | Path) -> None:
        """Save what the window shows as a PNG."""
        self.driver.save_screenshot(str(path))

    def _scrolled(self, element: WebElement) -> WebElement:
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
        return element

    def _retry_stale(self, action):
        """Run `action`; the app re-renders some parts on sync, so a found element may be
        replaced before it is used: look it up again a few times."""
        for attempt in range(5):
            try:
                return action()
            except StaleElementReferenceException:
                if attempt == 4:
                    raise

    def _wait(self, condition, timeout, message):
        try:
            return WebDriverWait(self.driver, timeout or self.timeout, poll_frequency=0.05,
                                 ignored_exceptions=(StaleElementReferenceException,)
                                 ).until(condition, message)
        except TimeoutException as err:
            raise AssertionError(f"WebKit: {message}") from err


def quit_webkit(driver: WebDriver) -> None:
    """Quit the browser and its driver, whatever state they are in."""
    try:
        driver.quit()
    except WebDriverException:
        driver.service.stop()
