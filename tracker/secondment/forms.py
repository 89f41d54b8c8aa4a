"""Forms of the secondment pages (Flask-WTF; Chinese labels, phone-friendly)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from tracker.secondment.models import (
    GRADE_LABELS,
    OUTCOME_LABELS,
    PUBLIC_FIELD_LABELS,
    RESULT_KIND_LABELS,
)

DATE_MSG = "请填写日期，如 2026-03-05"


class CheckboxList(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class LogForm(FlaskForm):
    day = DateField("日期", validators=[DataRequired(DATE_MSG)])
    what = TextAreaField("工作内容", validators=[DataRequired("请填写工作内容"), Length(max=2000)])
    place = StringField("地点", validators=[Optional(), Length(max=100)])
    with_whom = StringField("参与人员", validators=[Optional(), Length(max=200)])
    outcome = TextAreaField("成效", validators=[Optional(), Length(max=2000)])


class ReportForm(FlaskForm):
    week_start = DateField("周次（该周星期一）", validators=[DataRequired(DATE_MSG)])
    work_done = TextAreaField(
        "本周工作", validators=[DataRequired("请填写本周工作"), Length(max=5000)]
    )
    problems = TextAreaField("问题困难", validators=[Optional(), Length(max=5000)])
    next_plan = TextAreaField("下周计划", validators=[Optional(), Length(max=5000)])
    public_fields = CheckboxList(
        "公示内容",
        choices=[SelectChoice(k, v) for k, v in PUBLIC_FIELD_LABELS.items()],
        validate_choice=False,
    )


class AssessmentForm(FlaskForm):
    window_key = SelectField("考核周期", validators=[DataRequired("请选择考核周期")])
    assessed_on = DateField("考核日期", validators=[DataRequired(DATE_MSG)])
    grade = SelectField(
        "考核等次", choices=[SelectChoice(k.value, v) for k, v in GRADE_LABELS.items()]
    )
    assessors = StringField(
        "考核人员", validators=[DataRequired("请填写考核人员"), Length(max=200)]
    )
    comment = TextAreaField("考核意见", validators=[Optional(), Length(max=2000)])


class InspectionForm(FlaskForm):
    group_id = SelectField("督查组", coerce=int, validate_choice=False)
    day = DateField("督查日期", validators=[DataRequired(DATE_MSG)])
    place = StringField("督查地点", validators=[DataRequired("请填写督查地点"), Length(max=100)])
    present = SelectField(
        "是否在岗", choices=[SelectChoice("1", "在岗"), SelectChoice("0", "不在岗")]
    )
    findings = TextAreaField("发现问题", validators=[Optional(), Length(max=2000)])
    rectification = TextAreaField("整改要求", validators=[Optional(), Length(max=2000)])
    rectify_by = DateField("整改期限", validators=[Optional()])


class ComplaintForm(FlaskForm):
    content = TextAreaField(
        "举报内容", validators=[DataRequired("请填写举报内容"), Length(max=5000)]
    )
    name = StringField("姓名（可不填）", validators=[Optional(), Length(max=64)])
    contact = StringField("联系方式（可不填）", validators=[Optional(), Length(max=64)])


class CloseComplaintForm(FlaskForm):
    outcome = TextAreaField(
        "核查结果", validators=[DataRequired("请填写核查结果"), Length(max=5000)]
    )
    reply = TextAreaField("答复内容", validators=[DataRequired("请填写答复内容"), Length(max=5000)])
    closed_on = DateField("办结日期", validators=[DataRequired(DATE_MSG)])


class ResultForm(FlaskForm):
    kind = SelectField(
        "类别", choices=[SelectChoice(k.value, v) for k, v in RESULT_KIND_LABELS.items()]
    )
    day = DateField("日期", validators=[DataRequired(DATE_MSG)])
    title = StringField("事项", validators=[DataRequired("请填写事项"), Length(max=200)])
    detail = TextAreaField("详细情况", validators=[Optional(), Length(max=5000)])


class EndForm(FlaskForm):
    actual_end_on = DateField("实际结束日期", validators=[DataRequired(DATE_MSG)])
    outcome = SelectField(
        "使用结果",
        choices=[SelectChoice("", "（暂无）")]
        + [SelectChoice(k.value, v) for k, v in OUTCOME_LABELS.items()],
        validators=[Optional()],
    )
    outcome_decision = StringField(
        "使用决定（文号或会议）", validators=[Optional(), Length(max=300)]
    )
    outcome_on = DateField("决定日期", validators=[Optional()])


class GuaranteeForm(FlaskForm):
    guarantee_given = BooleanField("派出单位承诺工资、晋升不受影响")
