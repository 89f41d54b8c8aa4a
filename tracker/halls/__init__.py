"""一站式服务大厅与摄像头: service halls, cameras, stations, uptime, excuses, alerts."""

from flask_babel import lazy_gettext as _l

from tracker.domain import Domain, NavEntry

DOMAIN = Domain(
    "tracker.halls",
    filters="views:FILTERS",
    api=("api", "station_api", "resident_api"),
    jobs="jobs",
    commands="cli:commands",
    seeder="demo:seed_halls",
    companions="demo:demo_companions",
    todo=("views:camera_todo",),
    nav=(NavEntry("halls.index", _l("大厅监控"), order=20),),
)
