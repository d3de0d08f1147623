"""The course site (``make site``): its generator, and the built site in headless Chromium.

The generator tests run on a toy project. The browser tests build the real site (incrementally,
a few seconds once built) and open it in Debian's ``chromium`` through ``chromium-driver`` and
Selenium; they are skipped, saying why, when Chromium, its driver, Selenium or Jupyter Book is
not installed (``.ci/run`` installs them). They write two screenshots to ``docs/screenshots/``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from cpmkit.site import build_site, cells_fingerprint, collect_lessons, generate, prerequisites

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "docs" / "screenshots"
TRACEBACK = "Traceback (most recent call last)"


# ---------------------------------------------------------------------------------------------
# the generator, on a toy project


def _notebook(
    path: Path,
    number: str,
    title: str,
    extra: str = "",
    code: str = "x = 1",
    papermill: dict | None = None,
) -> None:
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": f"# {number} · {title}\n\nIntro."},
        {
            "cell_type": "markdown",
            "metadata": {},
            "source": f"## Aim\n\n**Contents in Practice**\n- practise {title}\n\n{extra}",
        },
        {
            "cell_type": "code",
            "metadata": {"tags": ["parameters"]},
            "execution_count": None,
            "outputs": [],
            "source": "profile = None  # ci, teach or paper",
        },
        {
            "cell_type": "code",
            "metadata": {},
            "execution_count": None,
            "outputs": [],
            "source": code,
        },
    ]
    metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
    }
    if papermill is not None:
        cells.insert(
            3,
            {
                "cell_type": "code",
                "metadata": {"tags": ["injected-parameters"]},
                "execution_count": 1,
                "outputs": [],
                "source": 'profile = "teach"',
            },
        )
        metadata["papermill"] = {"parameters": papermill, "duration": 12.5}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}),
        encoding="utf-8",
    )


@pytest.fixture
def toy(tmp_path):
    """Three lessons: 00 executed and current, 01 executed from an older source, 02 missing."""
    shutil.copytree(ROOT / "docs", tmp_path / "docs", ignore=shutil.ignore_patterns("screenshots"))
    (tmp_path / "pyproject.toml").write_text("")
    nbs, teach = tmp_path / "notebooks", tmp_path / "reproductions" / "runs" / "teach"
    _notebook(nbs / "00_start.ipynb", "00", "Start")
    _notebook(nbs / "01_next.ipynb", "01", "Next", code="y = 2")
    _notebook(nbs / "02_later.ipynb", "02", "Later", extra="As in lesson 01, and lesson 05.")
    _notebook(teach / "00_start.ipynb", "00", "Start", papermill={"profile": "teach"})
    _notebook(teach / "01_next.ipynb", "01", "Next", code="y = 1", papermill={"profile": "teach"})
    (teach / "runs.json").write_text(
        json.dumps(
            {
                "profile": "teach",
                "records": [
                    {
                        "notebook": "00_start",
                        "status": "ok",
                        "runtime_s": 42.0,
                        "error": None,
                        "output_path": "00_start.ipynb",
                    }
                ],
            }
        )
    )
    return tmp_path


def test_fingerprint_ignores_papermill_parameters(toy):
    teach = toy / "reproductions" / "runs" / "teach"
    read = lambda p: json.loads(p.read_text())  # noqa: E731
    assert cells_fingerprint(read(teach / "00_start.ipynb")) == cells_fingerprint(
        read(toy / "notebooks" / "00_start.ipynb")
    )
    assert cells_fingerprint(read(teach / "01_next.ipynb")) != cells_fingerprint(
        read(toy / "notebooks" / "01_next.ipynb")
    )


def test_prerequisites_are_earlier_lessons_named_in_the_text(toy):
    assert prerequisites(toy / "notebooks" / "00_start.ipynb", "00") == []
    # 01 named, 05 is later (a pointer ahead, not a prerequisite), 00 comes before all
    assert prerequisites(toy / "notebooks" / "02_later.ipynb", "02") == ["00", "01"]


def test_pages_follow_the_notebooks_present(toy):
    lessons = {lesson.number: lesson for lesson in collect_lessons(toy)}
    assert lessons["00"].runtime_s == 42.0 and not lessons["00"].warnings
    assert lessons["01"].runtime_s == 12.5  # no record: papermill's own duration
    assert any("stale" in w for w in lessons["01"].warnings)
    assert not lessons["02"].executed

    files, warnings = generate(toy)
    assert {"lessons/00_start.ipynb", "lessons/01_next.ipynb"} <= set(files)
    assert "lessons/02_later.ipynb" not in files
    assert any("02_later: not yet executed" in w for w in warnings)
    assert any("01_next: stale teach copy" in w for w in warnings)
    home = files["index.md"].decode()
    assert "| 00 | [Start](lessons/00_start.ipynb) | start here | 42 s |" in home
    assert "| 02 | Later" in home and "*not yet executed*" in home
    page = json.loads(files["lessons/01_next.ipynb"])
    banner = page["cells"][1]["source"]
    assert "```{warning}" in banner and "stale teach copy" in banner
    assert "-p profile teach" in banner and "-p profile paper" in banner
    toc = files["_toc.yml"].decode()
    assert "lessons/00_start" in toc and "lessons/02_later" not in toc

    # adding the executed copy is all it takes to put a lesson on the site
    _notebook(
        toy / "reproductions" / "runs" / "teach" / "02_later.ipynb",
        "02",
        "Later",
        extra="As in lesson 01, and lesson 05.",
        papermill={"profile": "teach"},
    )
    files, warnings = generate(toy)
    assert "lessons/02_later.ipynb" in files and "lessons/02_later" in files["_toc.yml"].decode()
    assert not any("02_later" in w for w in warnings)


def test_parameters_other_than_teach_are_flagged(toy):
    teach = toy / "reproductions" / "runs" / "teach"
    _notebook(
        teach / "00_start.ipynb", "00", "Start", papermill={"profile": "teach", "num_epochs": 1}
    )
    lesson = collect_lessons(toy)[0]
    assert any("not the lesson's plain teach settings" in w for w in lesson.warnings)


# ---------------------------------------------------------------------------------------------
# the real site in headless Chromium


def _browser_or_skip():
    """(chromium, chromedriver) paths, or a skip that says what to install."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        pytest.skip("browser check skipped: selenium is not installed (pip install -e '.[dev]')")
    try:
        import jupyter_book  # noqa: F401
    except ImportError:
        pytest.skip(
            "browser check skipped: jupyter-book<2 is not installed (pip install -e '.[dev]')"
        )
    browser = next(filter(None, map(shutil.which, ("chromium", "chromium-browser"))), None)
    driver = shutil.which("chromedriver")
    if not browser or not driver:
        pytest.skip(
            "browser check skipped: headless Chromium not found; install it with "
            "`apt-get install chromium chromium-driver` (.ci/run does)"
        )
    return browser, driver


@pytest.fixture(scope="module")
def site():
    """The real site, built (incrementally) from the executed copies; its HTML folder."""
    _browser_or_skip()
    index, _ = build_site(ROOT)
    return index.parent


@pytest.fixture(scope="module")
def browser(site):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = _browser_or_skip()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,960",
        "--hide-scrollbars",
    ):
        options.add_argument(arg)
    # the driver path is given, so Selenium Manager never tries to download one
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


PLAIN_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def _open(browser, page: Path) -> dict:
    """Load a page; return what the checks need, read in the page itself."""
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(page.as_uri())
    # on a loaded machine, wait for the document and its images rather than trusting get()
    WebDriverWait(browser, 30).until(
        lambda d: d.execute_script(
            "return document.readyState === 'complete' && document.URL === arguments[0]"
            " && Array.from(document.images).every(i => i.complete)",
            page.as_uri(),
        )
    )
    info = browser.execute_script("""
        const imgs = Array.from(document.querySelectorAll('article img, main img'));
        const refs = [];
        document.querySelectorAll('a[href]').forEach(a => refs.push(a.href));
        document.querySelectorAll('img[src], script[src]').forEach(e => refs.push(e.src));
        document.querySelectorAll('link[href]').forEach(e => refs.push(e.href));
        const h1 = document.querySelector('article h1, main h1, h1');
        return {
            title: document.title,
            h1: h1 ? h1.textContent.replace('#', '').trim() : '',
            text: document.body ? document.body.innerText : '',
            figures: imgs.filter(i => i.complete && i.naturalWidth > 0).length,
            tracebacks: document.querySelectorAll('.output.traceback, .output.error').length,
            refs: refs,
        };
    """)
    # Sphinx typesets quotes ("Uni-Mol's" is shown with a typographic apostrophe): compare the
    # page's words with the notebooks' plain ones
    for key in ("title", "h1", "text"):
        info[key] = info[key].translate(PLAIN_QUOTES)
    return info


def _check_formulas(browser) -> None:
    """Formulas, if the page has any, are typeset by the site's own MathJax, without error."""
    from selenium.webdriver.support.ui import WebDriverWait

    sources = browser.execute_script(
        "return document.querySelectorAll('span.math.notranslate, div.math.notranslate').length"
    )
    if not sources:
        return
    WebDriverWait(browser, 30).until(
        lambda d: d.execute_script(
            "return document.querySelectorAll('.MathJax, .MathJax_Display').length > 0"
            " && !document.querySelector('.MathJax_Processing')"
        ),
        "the page's formulas were not typeset (MathJax did not load or run)",
    )
    errors = browser.execute_script(
        "return document.querySelectorAll('.MathJax_Error, .MathJax .merror').length"
    )
    assert errors == 0, f"{errors} formula(s) with a TeX error"


def _broken_links(info: dict) -> list[str]:
    broken = []
    for ref in info["refs"]:
        url = urlparse(ref)
        if url.scheme != "file":
            continue  # external links are not the site's to resolve
        if not Path(unquote(url.path)).exists():
            broken.append(ref)
    return broken


def _screenshot(browser, name: str) -> None:
    """A small PNG (256-colour palette) of the visible page, in docs/screenshots/."""
    import io

    from PIL import Image, ImageChops

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    image = Image.open(io.BytesIO(browser.get_screenshot_as_png())).convert("RGB")
    if path.is_file():  # keep the committed file unless the page really looks different
        old = Image.open(path).convert("RGB")
        if old.size == image.size:
            # pixels whose grey level moved by more than 32 of 255
            changed = sum(ImageChops.difference(old, image).convert("L").histogram()[33:])
            if changed < 0.002 * image.size[0] * image.size[1]:
                return
    image.quantize(colors=256).save(path, optimize=True)


EXECUTED = [lesson for lesson in collect_lessons(ROOT) if lesson.executed]


def test_home_page_shows_the_course_path(browser, site):
    info = _open(browser, site / "index.html")
    assert "cpmkit" in info["title"]
    assert info["h1"].startswith("cpmkit")
    assert info["figures"] >= 1, "the course-time figure did not render"
    assert TRACEBACK not in info["text"] and info["tracebacks"] == 0
    assert not _broken_links(info), _broken_links(info)
    for lesson in collect_lessons(ROOT):
        assert lesson.title in info["text"], f"lesson {lesson.number} missing from the path"
        if not lesson.executed:
            assert "not yet executed" in info["text"]
    # the course path, not the intro, is what the screenshot should show
    browser.execute_script("document.getElementById('the-course-path').scrollIntoView()")
    _screenshot(browser, "home.png")


@pytest.mark.skipif(not EXECUTED, reason="no executed lesson in reproductions/runs/teach yet")
@pytest.mark.parametrize("lesson", EXECUTED, ids=[lesson.stem for lesson in EXECUTED])
def test_lesson_page(browser, site, lesson):
    page = site / "lessons" / f"{lesson.stem}.html"
    assert page.is_file(), f"no page for the executed lesson {lesson.stem}"
    info = _open(browser, page)
    assert info["h1"] == f"{lesson.number} · {lesson.title}"
    assert lesson.title in info["title"]
    assert info["figures"] >= 1, "no rendered figure (img with a natural width)"
    assert TRACEBACK not in info["text"] and info["tracebacks"] == 0
    assert "-p profile teach" in info["text"] and "-p profile paper" in info["text"]
    assert f"notebooks/{lesson.source.name}" in info["text"]
    assert not _broken_links(info), _broken_links(info)
    _check_formulas(browser)
    if lesson is EXECUTED[0]:
        _screenshot(browser, "lesson.png")


def test_other_pages_load_and_link(browser, site):
    pages = [site / "running.html", *sorted((site / "reproductions").glob("*.html"))]
    assert len(pages) > 1
    for page in pages:
        info = _open(browser, page)
        assert info["h1"], f"{page.name}: no title"
        assert TRACEBACK not in info["text"]
        assert not _broken_links(info), (page.name, _broken_links(info))
