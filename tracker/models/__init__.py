"""All tracker models; importing this module registers every table on the metadata.

Each domain package adds its models module to the import list below so that
Alembic's autogenerate and the drift check see every table.
"""

from tracker.models.accounts import (
    ApiToken,
    LoginAttempt,
    LoginSession,
    LoginThrottle,
    Role,
    User,
)
from tracker.models.audit import AuditLog
from tracker.models.base import Base, utcnow
from tracker.models.calendar import CalendarOverride
from tracker.models.party import Branch, Gender, Member, MemberStatus, PartyGroup, VillageCadre
from tracker.models.public import PublicHit
from tracker.models.regions import Region, RegionLevel, in_subtree, subtree_ids
from tracker.models.versions import DataVersion

__all__ = [
    "ApiToken",
    "AuditLog",
    "Base",
    "Branch",
    "CalendarOverride",
    "DataVersion",
    "Gender",
    "LoginAttempt",
    "LoginSession",
    "LoginThrottle",
    "Member",
    "MemberStatus",
    "PartyGroup",
    "PublicHit",
    "Region",
    "RegionLevel",
    "Role",
    "User",
    "VillageCadre",
    "in_subtree",
    "subtree_ids",
    "utcnow",
]
