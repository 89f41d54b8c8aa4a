"""Every schema change is a migration: the migrated database matches the models."""

from tracker.database import drift


def test_models_and_migrations_do_not_drift(app, database_url):
    from tracker.extensions import db

    with app.app_context():
        assert drift(db.engine) == []
