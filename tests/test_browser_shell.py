"""The page shell in a real browser: Bootstrap Italia loads under our CSP, the
home page is accessible at desktop and phone widths, the skip link works."""

import pytest

pytestmark = pytest.mark.browser


def test_home_is_accessible_on_desktop(page, axe, ambito, tavolo):
    page.goto("/")
    assert page.locator("h1").inner_text() == "Ambito Territoriale Sociale n. 11"
    # Bootstrap Italia's stylesheet is applied (its header background is not transparent).
    background = page.eval_on_selector(".it-header-center-wrapper", "e => getComputedStyle(e).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")
    axe(page)


def test_home_is_accessible_at_390_px(new_page, axe, ambito, tavolo):
    phone = new_page(width=390, height=844)
    phone.goto("/")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page scrolls sideways: {width}px"
    axe(phone)


def test_skip_link_is_the_first_tab_stop(page, ambito):
    page.goto("/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Vai al contenuto principale"


def test_the_accessibility_check_sees_a_violation(page, ambito):
    """The axe check can fail: an image without a text alternative is reported."""
    from tests.conftest import axe_violations

    page.goto("/")
    page.evaluate("document.querySelector('main').append(Object.assign(document.createElement('img'), {src: '/x.png'}))")
    assert "image-alt" in {v["id"] for v in axe_violations(page)}
