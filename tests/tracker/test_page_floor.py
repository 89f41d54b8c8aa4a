"""What every page pays is computed once where it safely can be, with the same output:
remembered URLs, one-built row links, the templates' gettext (issue 18)."""

from __future__ import annotations

from flask import render_template_string, url_for
from flask_babel import force_locale
from markupsafe import Markup

from tracker.web import UrlPattern


def test_a_row_link_is_the_url_for_of_its_id(app, client):
    client.get("/login")  # the app serves requests: URLs may be remembered
    with app.test_request_context("/"):
        link = UrlPattern("trainings.register", "region_id", year=2026)
        for region_id in (0, 7, 123456, 2**31 - 1):
            assert link(region_id) == url_for("trainings.register", region_id=region_id, year=2026)
        plain = UrlPattern("org.member_edit", "member_id")
        assert plain(42) == url_for("org.member_edit", member_id=42) == "/org/members/42/edit"


def test_a_row_link_that_is_not_a_plain_id_is_built_by_url_for(app):
    with app.test_request_context("/"):
        link = UrlPattern("org.member_edit", "member_id")
        assert link("5") == url_for("org.member_edit", member_id="5")
        # a query value holding the probe's digits cannot be told apart: url_for it is
        probe = UrlPattern("trainings.register", "region_id", year=918273645546372819)
        assert probe.parts is None
        assert probe(3) == url_for("trainings.register", region_id=3, year=918273645546372819)


def test_remembered_urls_follow_the_root_path(app, client):
    client.get("/login")
    for root in ("", "/tracker"):
        with app.test_request_context("/", base_url=f"http://tracker.test{root}/"):
            for _ in range(2):  # built, then remembered
                assert url_for("main.home") == f"{root}/"
                assert url_for("static", filename="js/app.js") == f"{root}/static/js/app.js"
                assert url_for("auth.logout", _anchor="x") == f"{root}/logout#x"
                assert url_for("main.home", _external=True) == f"http://tracker.test{root}/"


def test_templates_translate_as_jinjas_new_style_gettext(app, client):
    client.get("/login")
    source = "{{ _('已导入 %(n)s 名党员。', n=name) }}|{{ _('100%%') }}|{{ ngettext('%(num)s 人', '%(num)s 人', 3) }}"
    with app.test_request_context("/"):
        out = render_template_string(source, name="<b>")
        assert out == "已导入 &lt;b&gt; 名党员。|100%|3 人"
        assert isinstance(Markup(out), Markup)
        with force_locale("en"):
            english = render_template_string("{{ _('退出登录') }}")
        assert english == "Sign out"


def test_the_default_roster_is_what_roster_query_selects(world, db):
    from tracker.org import services

    for village in (world.village_a1a, world.village_a1b):
        branch = services.branch_of(village.id)
        if branch is None:
            continue
        expected = list(db.session.scalars(services.roster_query(branch.id)).all())
        assert expected and services.roster_members(branch.id) == expected
        everyone = services.RosterFilter(show="all")
        assert services.roster_members(branch.id, everyone) == list(
            db.session.scalars(services.roster_query(branch.id, everyone)).all()
        )


def test_remembered_urls_are_flasks_for_every_host(app, client):
    from flask import Flask

    client.get("/login")
    for base in ("http://tracker.test/", "http://other.example/", "https://tracker.test/sub/"):
        for _ in range(2):
            with app.test_request_context("/", base_url=base):
                for endpoint in ("main.home", "auth.logout", "notifications.inbox"):
                    assert url_for(endpoint) == Flask.url_for(app, endpoint)
                assert url_for("static", filename="css/app.css") == Flask.url_for(
                    app, "static", filename="css/app.css"
                )
