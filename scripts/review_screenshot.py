"""Screenshot of a review page for the docs: `python scripts/review_screenshot.py OUT [docs/review.png]`."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.test_review import headless_chromium  # noqa: E402


def main(out: Path, png: Path) -> None:
    driver = headless_chromium()
    try:
        page = sorted((out / "review" / "rec").glob("*.html"))[-1]
        driver.get(page.as_uri())
        driver.set_window_size(1280, 900)
        driver.save_screenshot(str(png))
    finally:
        driver.quit()
    print(png)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2] if len(sys.argv) > 2 else "docs/review.png"))
