"""The console in a real browser (issue 19): headless Chromium from the distribution,
driven by Selenium through chromium-driver, against `bot run` with the console adapter.

One bot and one browser for the module; the tests run in order and share them. They run
in CI (.ci/run installs chromium) and where QUNBOT_BROWSER_TESTS is set; in CI a missing
browser fails loudly instead of skipping.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from tests.webrun import BotProcess

CHROMIUM = os.environ.get("QUNBOT_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("QUNBOT_CHROMEDRIVER", "/usr/bin/chromedriver")
WANTED = bool(os.environ.get("QUNBOT_BROWSER_TESTS") or os.environ.get("CI"))

if not WANTED:
    pytest.skip("browser tests: set QUNBOT_BROWSER_TESTS=1 (CI runs them always)",
                allow_module_level=True)


def _browser_present() -> bool:
    return all(os.path.exists(p) or shutil.which(p) for p in (CHROMIUM, CHROMEDRIVER))


@pytest.fixture(scope="module")
def bot(tmp_path_factory) -> Iterator[BotProcess]:
    running = BotProcess(tmp_path_factory.mktemp("console"))
    yield running
    output = running.stop()
    assert running.process.returncode == 0, output


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not _browser_present():
        pytest.fail(f"chromium ({CHROMIUM}) and chromium-driver ({CHROMEDRIVER}) are needed: "
                    "apt-get install -y chromium chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1200,900", "--lang=zh-CN"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


def by_css(driver, selector: str):
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, selector)


def all_css(driver, selector: str) -> list:
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def test_login_by_link_then_every_page(bot, browser):
    bot.type("/as carol", "大家好")
    browser.get(bot.login_link("op_a"))
    by_css(browser, "#login").click()
    assert "读书会" in by_css(browser, "#groups").text
    assert "跑步群" not in browser.page_source
    for path, marker in (("/group/g-a", "#members"), ("/questions", "h1"),
                         ("/moderation", "#actions"), ("/digests", "#digest"),
                         ("/config", "#check")):
        browser.get(bot.url + path)
        assert by_css(browser, marker).is_displayed(), path
        assert "没有查看这个群的权限" not in browser.page_source
    assert "配置正确" in by_css(browser, "#check").text
    browser.get(bot.url + "/group/g-b")
    assert "没有查看这个群的权限" in by_css(browser, "#message").text


def test_answering_a_question_posts_it_in_the_group(bot, browser):
    bot.type("/as carol", "@小助手 周末有线下活动吗")
    bot.wait_for(lambda m: "还不会回答" in m["text"])
    bot.type("/as dave", "@小助手 图书馆几点开门")
    bot.wait_for(lambda m: "还不会回答" in m["text"] and "dave" in m["mentions"])
    browser.get(bot.url + "/questions")
    # htmx swaps the card in place: the page (and this marker on its window) stays
    browser.execute_script("window.qunbotMarker = 'kept'")
    [card] = [c for c in all_css(browser, "section.question") if "周末有线下活动吗" in c.text]
    qid = card.get_attribute("id")
    card.find_element("css selector", "textarea").send_keys("每月第一个周六下午，{name}来玩")
    card.find_element("css selector", "button").click()
    assert "已回答" in by_css(browser, f"#{qid}.answered .done").text
    assert browser.execute_script("return window.qunbotMarker") == "kept"
    assert "图书馆几点开门" in browser.page_source  # the other card left as it was
    assert all_css(browser, "header nav")  # one layout, not a page inside the page
    assert len(all_css(browser, "header")) == 1
    posted = bot.wait_for(lambda m: m["text"] == "每月第一个周六下午，carol来玩")
    assert posted["group"] == "g-a" and posted["mentions"] == ["carol"]


def test_without_javascript_the_answer_form_posts_the_whole_page(bot, browser):
    """Progressive enhancement: the same form, a plain POST and the page back."""
    browser.get(bot.url + "/questions")
    browser.execute_script("window.qunbotMarker = 'kept'")
    [card] = [c for c in all_css(browser, "section.question") if "图书馆几点开门" in c.text]
    card.find_element("css selector", "textarea").send_keys("早上九点")
    browser.execute_script("arguments[0].removeAttribute('hx-post'); "
                           "arguments[0].submit()", card.find_element("css selector", "form"))
    assert "已回答" in by_css(browser, "#done").text
    assert browser.execute_script("return window.qunbotMarker") is None  # a new page
    bot.wait_for(lambda m: m["text"] == "早上九点" and m["mentions"] == ["dave"])


def test_misjudged_in_one_click(bot, browser):
    bot.type("/as dave", "你这个傻瓜")
    bot.wait_for(lambda m: m["kind"] == "notice" and "dave" in m["mentions"])
    browser.get(bot.url + "/moderation")
    browser.execute_script("window.qunbotMarker = 'kept'")
    all_css(browser, "button.misjudged")[0].click()
    assert "已撤销" in by_css(browser, "#today .done").text
    assert browser.execute_script("return window.qunbotMarker") == "kept"
    bot.wait_for(lambda m: m["kind"] == "notice" and "已撤销对 dave" in m["text"])


def test_a_config_edit_refused_then_one_applied(bot, browser):
    browser.get(bot.url + "/config/g-a")
    at = by_css(browser, "input[name=at-0]")
    at.clear()
    at.send_keys("25:99")
    by_css(browser, "#save-posts").click()
    refused = by_css(browser, "#refused").text
    assert "bot.yaml:" in refused and "原配置继续运行" in refused
    at = by_css(browser, "input[name=at-0]")
    assert at.get_attribute("value") == "08:30"  # the old config kept
    at.clear()
    at.send_keys("07:45")
    by_css(browser, "textarea[name=new-text]").send_keys("晚安，{group}")
    by_css(browser, "input[name=new-at]").send_keys("21:30")
    by_css(browser, "#save-posts").click()
    assert "已保存" in by_css(browser, "#done").text
    assert by_css(browser, "input[name=at-0]").get_attribute("value") == "07:45"
    text = (bot.directory / "bot.yaml").read_text(encoding="utf-8")
    assert "# every morning" in text and 'at: "21:30"' in text


def test_the_overviews_refresh_stays_on_the_page(bot, browser):
    browser.get(bot.url + "/")
    browser.execute_script("window.qunbotMarker = 'kept'")
    browser.execute_script("document.getElementById('live').dataset.old = 'yes'")
    by_css(browser, "#refresh").click()
    from selenium.webdriver.support.ui import WebDriverWait

    # a new #live came in place of the old one, inside the same page
    WebDriverWait(browser, 5).until(lambda b: b.execute_script(
        "const live = document.getElementById('live'); return live && !live.dataset.old"))
    assert browser.execute_script("return window.qunbotMarker") == "kept"
    assert browser.execute_script("return typeof htmx") == "object"  # loaded under the CSP
    assert len(all_css(browser, "#live")) == 1 and len(all_css(browser, "header")) == 1
    assert "读书会" in by_css(browser, "#groups").text
