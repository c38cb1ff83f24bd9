#!/usr/bin/env python3
"""Screenshots of every page of the web console, for the README (docs/screenshots/).

Runs `bot run` with the console adapter and the console on a free local port (the test
deployment in tests/webkit.py), types a little group life into it — chat, check-ins, a
question the FAQ cannot answer, a banned word — logs in by the link `后台` sends, and
photographs each page in headless Chromium (the distribution's chromium and
chromium-driver).

    python tools/screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.webrun import BotProcess  # noqa: E402

PAGES = [
    ("overview", "/"),
    ("group", "/group/g-a"),
    ("questions", "/questions"),
    ("moderation", "/moderation"),
    ("digests", "/digests"),
    ("config", "/config"),
    ("config-group", "/config/g-a"),
]

LIFE = [
    "/as carol", "大家早上好", "打卡 读完《活着》第三章，福贵的一生太苦了",
    "/as dave", "打卡 今天读了二十页", "@小助手 怎么打卡",
    "/as erin", "打卡 重读三体，第二遍更震撼", "@小助手 这个月线下读书会在哪里办",
    "/as frank", "有没有人一起周末去图书馆", "你这个傻瓜",
    "/as carol", "@小助手 可以带朋友来吗",
]


def browser(width: int, height: int):  # noqa: ANN201  (selenium's driver)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 f"--window-size={width},{height}", "--hide-scrollbars", "--lang=zh-CN",
                 "--force-device-scale-factor=1"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def shoot(driver, path: Path, width: int) -> None:  # noqa: ANN001
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, min(max(height, 600), 2400))
    time.sleep(0.2)
    driver.save_screenshot(str(path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    bot = BotProcess(Path(tempfile.mkdtemp(prefix="qunbot-shots-")))
    try:
        bot.type(*LIFE)
        bot.wait_for(lambda m: "frank" in m.get("mentions", []) and m["kind"] == "notice")
        link = bot.login_link("op_a")
        driver = browser(1200, 900)
        try:
            driver.get(link)
            shoot(driver, args.out / "login.png", 1200)
            driver.find_element("css selector", "#login").click()
            for name, path in PAGES:
                driver.get(bot.url + path)
                shoot(driver, args.out / f"{name}.png", 1200)
            driver.get(bot.url + "/")
            shoot(driver, args.out / "overview-phone.png", 390)
            driver.get(bot.url + "/lang/en?next=/group/g-a")
            shoot(driver, args.out / "group-en.png", 1200)
        finally:
            driver.quit()
    finally:
        bot.stop()
    for shot in sorted(args.out.glob("*.png")):
        print(f"{shot.relative_to(ROOT) if shot.is_relative_to(ROOT) else shot}")


if __name__ == "__main__":
    main()
