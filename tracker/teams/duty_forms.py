"""Forms of the post and pledge registers (设岗定责, 一诺三联四帮)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from tracker.forms import Form
from tracker.teams.duty_models import (
    CONTACT_LABELS,
    HELP_LABELS,
    POST_GRADE_LABELS,
    RATING_LABELS,
)

DATE_MSG = _l("请填写日期，如 2026-03-05")


class CategoryForm(Form):
    name = StringField(
        _l("类别名称"), validators=[DataRequired(_l("请填写类别名称")), Length(max=32)]
    )


class PostForm(Form):
    category = SelectField(_l("岗位类别"), validate_choice=False)
    name = StringField(
        _l("岗位名称"), validators=[DataRequired(_l("请填写岗位名称")), Length(max=64)]
    )
    duties = TextAreaField(_l("岗位职责"), validators=[Optional(), Length(max=2000)])


class AssignmentForm(Form):
    member_id = SelectField(_l("无职党员"), coerce=int, validate_choice=False)
    post_id = SelectField(_l("岗位"), coerce=int, validate_choice=False)
    started_on = DateField(_l("设岗日期"), validators=[DataRequired(DATE_MSG)])
    duties = TextAreaField(
        _l("岗位职责（不填则用目录中的职责）"), validators=[Optional(), Length(max=2000)]
    )
    letter_signed_on = DateField(_l("责任书签订日期"), validators=[Optional()])
    letter = FileField(_l("责任书扫描件（JPG、PNG、PDF）"))


class LetterForm(Form):
    letter_signed_on = DateField(_l("责任书签订日期"), validators=[Optional()])
    letter = FileField(_l("责任书扫描件（JPG、PNG、PDF）"))


class ReviewForm(Form):
    year = IntegerField(
        _l("评议年度"),
        validators=[
            DataRequired(_l("请填写评议年度")),
            NumberRange(2000, 2100, _l("评议年度不合理")),
        ],
    )
    half = SelectField(
        _l("半年"),
        coerce=int,
        choices=[SelectChoice(1, _l("上半年")), SelectChoice(2, _l("下半年"))],
    )
    reviewed_on = DateField(_l("评议日期"), validators=[DataRequired(DATE_MSG)])
    grade = SelectField(
        _l("评议等次"),
        choices=[SelectChoice(k.value, label) for k, label in POST_GRADE_LABELS.items()],
        validators=[DataRequired(_l("请选择评议等次"))],
    )
    reviewer = StringField(
        _l("评议组织/评议人"),
        validators=[DataRequired(_l("请填写评议组织或评议人")), Length(max=64)],
    )
    note = StringField(_l("说明"), validators=[Optional(), Length(max=500)])


class EndForm(Form):
    ended_on = DateField(_l("结束日期"), validators=[DataRequired(DATE_MSG)])


class PledgeForm(Form):
    person = SelectField(_l("承诺人（党员或村干部）"), validate_choice=False)
    year = IntegerField(
        _l("承诺年度"),
        validators=[
            DataRequired(_l("请填写承诺年度")),
            NumberRange(2000, 2100, _l("承诺年度不合理")),
        ],
    )
    made_on = DateField(_l("亮诺日期"), validators=[DataRequired(DATE_MSG)])
    content = TextAreaField(
        _l("承诺内容"), validators=[DataRequired(_l("请填写承诺内容")), Length(max=500)]
    )


class ProgressForm(Form):
    on = DateField(_l("践诺日期"), validators=[DataRequired(DATE_MSG)])
    note = StringField(
        _l("践诺情况"), validators=[DataRequired(_l("请填写践诺情况")), Length(max=500)]
    )


class RatingForm(Form):
    rating = SelectField(
        _l("评诺等次"),
        choices=[SelectChoice(k.value, label) for k, label in RATING_LABELS.items()],
        validators=[DataRequired(_l("请选择评诺等次"))],
    )
    rated_on = DateField(_l("评诺日期"), validators=[DataRequired(DATE_MSG)])
    rated_by = StringField(
        _l("评诺组织"), validators=[DataRequired(_l("请填写评诺组织")), Length(max=64)]
    )
    rating_note = StringField(_l("评语"), validators=[Optional(), Length(max=500)])


class LinkForm(Form):
    member_id = SelectField(_l("联户党员"), coerce=int, validate_choice=False)
    head = StringField(_l("户主"), validators=[DataRequired(_l("请填写户主姓名")), Length(max=32)])
    address = StringField(_l("住址（本村）"), validators=[Optional(), Length(max=200)])
    phone = StringField(_l("联系电话"), validators=[Optional(), Length(max=20)])
    since = DateField(_l("联户日期"), validators=[DataRequired(DATE_MSG)])


class ContactForm(Form):
    on = DateField(_l("联系日期"), validators=[DataRequired(DATE_MSG)])
    kind = SelectField(
        _l("联系方式"),
        choices=[SelectChoice(k.value, label) for k, label in CONTACT_LABELS.items()],
        validators=[DataRequired(_l("请选择联系方式"))],
    )
    note = StringField(_l("联系情况"), validators=[Optional(), Length(max=500)])


class HelpForm(Form):
    on = DateField(_l("帮扶日期"), validators=[DataRequired(DATE_MSG)])
    category = SelectField(
        _l("帮扶类别"),
        choices=[SelectChoice(k.value, label) for k, label in HELP_LABELS.items()],
        validators=[DataRequired(_l("请选择帮扶类别"))],
    )
    what = StringField(
        _l("帮扶内容"), validators=[DataRequired(_l("请填写帮扶内容")), Length(max=500)]
    )


class DutyImportForm(Form):
    file = FileField(_l("Excel 文件"))
