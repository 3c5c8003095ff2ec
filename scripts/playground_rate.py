"""Screen updates and training steps a second of ``numpynn playground``, read off the page.

Starts the server on a free port, opens the page in Debian's headless Chromium (the same set-up
as tests/test_playground_browser.py: /usr/bin/chromium, /usr/bin/chromedriver, offline),
trains a 2-8-8-1 tanh network on the spiral and samples the page's own counters (#fps: frames
drawn in the last second; #sps: training steps a second) once a second.

    python scripts/playground_rate.py [--seconds 10]

Prints each sample and their medians. The issue's bar: at least 10 screen updates a second.
"""
import argparse
import shutil
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_playground_browser import _open, _text, start_chromium  # noqa: E402

from numpynn.playground.app import bind, make_server, url_of  # noqa: E402

SET_UP = "dataset=spiral&seed=0&lr=0.01&layers=8:tanh:xavier_uniform:0:0,8:tanh:xavier_uniform:0:0"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    sock = bind("127.0.0.1", 0)
    server = make_server(sock)
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    browser, profile = start_chromium()
    try:
        _open(browser, url_of(sock), SET_UP)
        browser.find_element("id", "train").click()
        time.sleep(2)   # the first second's counters are partial
        fps, sps = [], []
        for _ in range(args.seconds):
            time.sleep(1)
            fps.append(float(_text(browser, "fps")))
            sps.append(float(_text(browser, "speed").replace(",", "")))
            print(f"updates/s {fps[-1]:5.0f}   steps/s {sps[-1]:7.0f}   epoch "
                  f"{_text(browser, 'epoch')}")
        print(f"median: {statistics.median(fps):.0f} screen updates/s, "
              f"{statistics.median(sps):.0f} training steps/s")
    finally:
        browser.quit()
        server.should_exit = True
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
