"""Forms of the meeting pages (Flask-WTF: CSRF and the simple fields).

Attendance is not a WTForms field: the roster is dynamic, so the view reads
the ``present`` checkboxes and ``reason_<member id>`` inputs itself.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    DateField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from tracker.forms import Form

DT_FORMAT = "%Y-%m-%dT%H:%M"


class MeetingForm(Form):
    """One page of the 记录簿."""

    kind = SelectField(_l("会议类型"), validators=[DataRequired(_l("请选择会议类型"))])
    group_id = SelectField(_l("党小组"), coerce=int, validate_choice=False, default=0)
    started_at = DateTimeLocalField(
        _l("开始时间"), format=DT_FORMAT, validators=[InputRequired(_l("请填写开始时间"))]
    )
    ended_at = DateTimeLocalField(
        _l("结束时间"), format=DT_FORMAT, validators=[InputRequired(_l("请填写结束时间"))]
    )
    place = StringField(
        _l("地点"), validators=[DataRequired(_l("请填写会议地点")), Length(max=100)]
    )
    host_id = SelectField(
        _l("主持人"),
        coerce=int,
        validate_choice=False,
        default=0,
        validators=[DataRequired(_l("请选择主持人"))],
    )
    recorder = StringField(
        _l("记录人"), validators=[DataRequired(_l("请填写记录人")), Length(max=32)]
    )
    lecturer = StringField(_l("授课人（党课）"), validators=[Optional(), Length(max=64)])
    topics = TextAreaField(
        _l("议题（每行一项）"), validators=[DataRequired(_l("请填写议题")), Length(max=2000)]
    )
    content = TextAreaField(_l("会议内容"), validators=[Optional(), Length(max=20000)])
    resolutions = TextAreaField(_l("决议"), validators=[Optional(), Length(max=5000)])
    guests = StringField(_l("列席人员（非党员）"), validators=[Optional(), Length(max=500)])
    attachments = FileField(_l("附件（签到表照片或 PDF 扫描件）"))
    client_uuid = HiddenField()
    version = HiddenField()
    reason = StringField(_l("修改原因"), validators=[Optional(), Length(max=200)])


class DeleteForm(Form):
    reason = StringField(
        _l("删除原因"), validators=[DataRequired(_l("请填写删除原因")), Length(max=200)]
    )


class AttachmentForm(Form):
    attachments = FileField(_l("附件"), validators=[DataRequired(_l("请选择文件"))])


class ImportForm(Form):
    file = FileField(_l("Excel 文件（.xlsx）"))
    token = HiddenField()


class PlanForm(Form):
    quarter = SelectField(
        _l("季度"),
        coerce=int,
        choices=[SelectChoice(str(q), _l("第%(q)s季度", q=q)) for q in range(1, 5)],
    )
    year = IntegerField(
        _l("年度"), validators=[InputRequired(_l("请填写年度")), NumberRange(2000, 2100)]
    )
    kind = SelectField(_l("会议类型"), validators=[DataRequired(_l("请选择会议类型"))])
    group_id = SelectField(_l("党小组"), coerce=int, validate_choice=False, default=0)
    planned_on = DateField(_l("计划日期"), validators=[InputRequired(_l("请填写计划日期"))])
    topic = StringField(_l("议题"), validators=[Optional(), Length(max=200)])


class RuleForm(Form):
    county_id = SelectField(_l("县（区）"), coerce=int, validate_choice=False)
    kind = SelectField(_l("会议类型"), validators=[DataRequired()])
    frequency = SelectField(
        _l("频次"),
        choices=[
            SelectChoice("", _l("沿用全市默认")),
            SelectChoice("monthly", _l("每月")),
            SelectChoice("quarterly", _l("每季度")),
            SelectChoice("yearly", _l("每年")),
            SelectChoice("yearly:Q4", _l("每年（第四季度内）")),
            SelectChoice("none", _l("不作要求")),
        ],
        validate_choice=True,
    )


class KindForm(Form):
    code = StringField(
        _l("代码（英文）"), validators=[DataRequired(_l("请填写代码")), Length(max=32)]
    )
    name = StringField(_l("名称"), validators=[DataRequired(_l("请填写名称")), Length(max=32)])
    frequency = SelectField(
        _l("频次"),
        choices=[
            SelectChoice("none", _l("不作要求")),
            SelectChoice("monthly", _l("每月")),
            SelectChoice("quarterly", _l("每季度")),
            SelectChoice("yearly", _l("每年")),
            SelectChoice("yearly:Q4", _l("每年（第四季度内）")),
        ],
    )
