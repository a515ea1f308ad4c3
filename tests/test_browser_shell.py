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


STYLE_OF = """(selector) => { const e = document.querySelector(selector), c = getComputedStyle(e), r = e.getBoundingClientRect();
  return [c.fontSize, c.lineHeight, c.fontWeight, c.color, c.padding, Math.round(r.top), Math.round(r.height)]; }"""


@pytest.mark.parametrize("width", [1280, 390])
def test_the_logout_button_looks_like_the_menu_links_beside_it(new_page, login_page, ambito, admin_user, width):
    pg = new_page(width=width)
    login_page(pg, admin_user)
    pg.goto("/")
    if width < 992:
        pg.get_by_role("button", name="Mostra o nascondi la navigazione").click()
        pg.locator("#main-nav .nav-item .inline-form").wait_for()
    link, logout = (pg.evaluate(STYLE_OF, selector) for selector in (
        ".navbar .nav-item a.nav-link", ".navbar .nav-item .inline-form .nav-link"))
    if width >= 992:  # one row: same height, same line
        assert logout == link
    else:  # one column: everything but the vertical position
        assert logout[:-2] + logout[-1:] == link[:-2] + link[-1:]
