"""Flask-WTF forms of the organisation pages.

Labels and messages are Chinese msgids wrapped in ``lazy_gettext`` so the
English catalog can translate them; the rules themselves live in
:mod:`tracker.org.services` and their errors are put beside the field by
:func:`tracker.web.submit`.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional

from tracker.forms import Form, as_choices
from tracker.models import Gender, MemberStatus, Role

REQUIRED = _l("必填")


def _none_if_empty(value: object) -> object:
    return value or None


class RegionForm(Form):
    """Create a child node or rename one; the statistical code is optional."""

    name = StringField(_l("名称"), validators=[DataRequired(REQUIRED), Length(max=64)])
    code = StringField(
        _l("统计用区划代码"),
        validators=[Optional(), Length(min=12, max=12, message=_l("应为 12 位数字"))],
        filters=[lambda v: (v or "").strip() or None],
    )


class BranchForm(Form):
    name = StringField(_l("支部名称"), validators=[DataRequired(REQUIRED), Length(max=100)])
    founded_on = DateField(_l("成立日期"), validators=[Optional()])
    tracked_from = DateField(_l("台账起始日期"), validators=[Optional()])


class GroupForm(Form):
    name = StringField(_l("党小组名称"), validators=[DataRequired(REQUIRED), Length(max=64)])
    created_on = DateField(_l("成立日期"), validators=[Optional()])
    dissolved_on = DateField(_l("撤销日期"), validators=[Optional()])


class MemberForm(Form):
    """A member's details (add and edit)."""

    name = StringField(_l("姓名"), validators=[DataRequired(REQUIRED), Length(max=32)])
    gender = SelectField(
        _l("性别"),
        choices=as_choices(
            [("", "—"), (Gender.male.value, _l("男")), (Gender.female.value, _l("女"))]
        ),
        validators=[Optional()],
    )
    birth_year = IntegerField(
        _l("出生年份"),
        validators=[Optional(), NumberRange(min=1900, max=2100, message=_l("请填写四位年份"))],
    )
    status = SelectField(
        _l("党员类别"),
        choices=as_choices(
            [
                (MemberStatus.full.value, _l("正式党员")),
                (MemberStatus.probationary.value, _l("预备党员")),
            ]
        ),
        validators=[DataRequired(REQUIRED)],
    )
    group_id = SelectField(_l("所在党小组"), coerce=int, validators=[Optional()])
    joined_on = DateField(_l("入党日期"), validators=[Optional()])
    phone = StringField(_l("联系电话"), validators=[Optional(), Length(max=20)])
    note = TextAreaField(_l("备注"), validators=[Optional(), Length(max=500)])


class LeaveForm(Form):
    """A member leaves the roster (转出、去世 …) on a date."""

    left_on = DateField(_l("离开日期"), validators=[DataRequired(_l("请填写日期"))])
    reason = StringField(_l("原因"), validators=[Optional(), Length(max=200)])


class CadreForm(Form):
    """A village cadre (村干部) or reserve cadre (后备干部)."""

    name = StringField(_l("姓名"), validators=[DataRequired(REQUIRED), Length(max=32)])
    post = StringField(_l("职务"), validators=[DataRequired(REQUIRED), Length(max=64)])
    member_id = SelectField(_l("对应党员"), coerce=int, validators=[Optional()])
    phone = StringField(_l("联系电话"), validators=[Optional(), Length(max=20)])
    since = DateField(_l("任职日期"), validators=[Optional()])
    until = DateField(_l("离任日期"), validators=[Optional()])
    reserve = BooleanField(_l("后备干部"))


ROLE_CHOICES = [
    (Role.viewer.value, _l("查看者")),
    (Role.editor.value, _l("录入员")),
    (Role.admin.value, _l("管理员")),
]


class UserForm(Form):
    """Create or edit a user; the region list holds only the admin's own subtree."""

    username = StringField(_l("用户名"), validators=[DataRequired(REQUIRED), Length(max=64)])
    display_name = StringField(_l("姓名"), validators=[DataRequired(REQUIRED), Length(max=64)])
    role = SelectField(
        _l("角色"), choices=as_choices(ROLE_CHOICES), validators=[DataRequired(REQUIRED)]
    )
    region_id = SelectField(_l("所属单位"), coerce=int, validators=[DataRequired(REQUIRED)])
    phone = StringField(_l("联系电话"), validators=[Optional(), Length(max=20)])
    active = BooleanField(_l("启用"), default=True)
    password = PasswordField(_l("初始密码"), validators=[Optional(), Length(max=200)])


class PasswordResetForm(Form):
    password = PasswordField(
        _l("新密码"), validators=[DataRequired(REQUIRED), Length(min=8, max=200)]
    )
    confirm = PasswordField(
        _l("再次输入"),
        validators=[DataRequired(REQUIRED), EqualTo("password", message=_l("两次输入不一致"))],
    )


class ImportUploadForm(Form):
    file = FileField(_l("Excel 文件（.xlsx）"), validators=[FileRequired(_l("请选择文件"))])


class ImportCommitForm(Form):
    sha256 = HiddenField(validators=[DataRequired(), Length(min=64, max=64)])
