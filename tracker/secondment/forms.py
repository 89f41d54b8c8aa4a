"""Forms of the secondment pages (Flask-WTF; Chinese labels, phone-friendly)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from tracker.forms import Form
from tracker.secondment.models import (
    GRADE_LABELS,
    GROUP_KIND_LABELS,
    OUTCOME_LABELS,
    POST_TYPE_LABELS,
    PUBLIC_FIELD_LABELS,
    RESULT_KIND_LABELS,
)

DATE_MSG = _l("请填写日期，如 2026-03-05")


class CheckboxList(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class LogForm(Form):
    day = DateField(_l("日期"), validators=[DataRequired(DATE_MSG)])
    what = TextAreaField(
        _l("工作内容"), validators=[DataRequired(_l("请填写工作内容")), Length(max=2000)]
    )
    place = StringField(_l("地点"), validators=[Optional(), Length(max=100)])
    with_whom = StringField(_l("参与人员"), validators=[Optional(), Length(max=200)])
    outcome = TextAreaField(_l("成效"), validators=[Optional(), Length(max=2000)])


class ReportForm(Form):
    week_start = DateField(_l("周次（该周星期一）"), validators=[DataRequired(DATE_MSG)])
    work_done = TextAreaField(
        _l("本周工作"), validators=[DataRequired(_l("请填写本周工作")), Length(max=5000)]
    )
    problems = TextAreaField(_l("问题困难"), validators=[Optional(), Length(max=5000)])
    next_plan = TextAreaField(_l("下周计划"), validators=[Optional(), Length(max=5000)])
    public_fields = CheckboxList(
        _l("公示内容"),
        choices=[SelectChoice(k, _l(v)) for k, v in PUBLIC_FIELD_LABELS.items()],
        validate_choice=False,
    )


class AssessmentForm(Form):
    window_key = SelectField(_l("考核周期"), validators=[DataRequired(_l("请选择考核周期"))])
    assessed_on = DateField(_l("考核日期"), validators=[DataRequired(DATE_MSG)])
    grade = SelectField(
        _l("考核等次"), choices=[SelectChoice(k.value, _l(v)) for k, v in GRADE_LABELS.items()]
    )
    assessors = StringField(
        _l("考核人员"), validators=[DataRequired(_l("请填写考核人员")), Length(max=200)]
    )
    comment = TextAreaField(_l("考核意见"), validators=[Optional(), Length(max=2000)])


class InspectionForm(Form):
    group_id = SelectField(_l("督查组"), coerce=int, validate_choice=False)
    day = DateField(_l("督查日期"), validators=[DataRequired(DATE_MSG)])
    place = StringField(
        _l("督查地点"), validators=[DataRequired(_l("请填写督查地点")), Length(max=100)]
    )
    present = SelectField(
        _l("是否在岗"), choices=[SelectChoice("1", _l("在岗")), SelectChoice("0", _l("不在岗"))]
    )
    findings = TextAreaField(_l("发现问题"), validators=[Optional(), Length(max=2000)])
    rectification = TextAreaField(_l("整改要求"), validators=[Optional(), Length(max=2000)])
    rectify_by = DateField(_l("整改期限"), validators=[Optional()])


class RectifiedForm(Form):
    rectified_on = DateField(_l("整改完成日期"), validators=[DataRequired(DATE_MSG)])
    rectified_note = TextAreaField(_l("整改情况"), validators=[Optional(), Length(max=2000)])


class ComplaintForm(Form):
    content = TextAreaField(
        _l("举报内容"), validators=[DataRequired(_l("请填写举报内容")), Length(max=5000)]
    )
    name = StringField(_l("姓名（可不填）"), validators=[Optional(), Length(max=64)])
    contact = StringField(_l("联系方式（可不填）"), validators=[Optional(), Length(max=64)])


class CloseComplaintForm(Form):
    outcome = TextAreaField(
        _l("核查结果"), validators=[DataRequired(_l("请填写核查结果")), Length(max=5000)]
    )
    reply = TextAreaField(
        _l("答复内容"), validators=[DataRequired(_l("请填写答复内容")), Length(max=5000)]
    )
    closed_on = DateField(_l("办结日期"), validators=[DataRequired(DATE_MSG)])


class ResultForm(Form):
    kind = SelectField(
        _l("类别"), choices=[SelectChoice(k.value, _l(v)) for k, v in RESULT_KIND_LABELS.items()]
    )
    day = DateField(_l("日期"), validators=[DataRequired(DATE_MSG)])
    title = StringField(_l("事项"), validators=[DataRequired(_l("请填写事项")), Length(max=200)])
    detail = TextAreaField(_l("详细情况"), validators=[Optional(), Length(max=5000)])


class EndForm(Form):
    actual_end_on = DateField(_l("实际结束日期"), validators=[DataRequired(DATE_MSG)])
    outcome = SelectField(
        _l("使用结果"),
        choices=[SelectChoice("", _l("（暂无）"))]
        + [SelectChoice(k.value, _l(v)) for k, v in OUTCOME_LABELS.items()],
        validators=[Optional()],
    )
    outcome_decision = StringField(
        _l("使用决定（文号或会议）"), validators=[Optional(), Length(max=300)]
    )
    outcome_on = DateField(_l("决定日期"), validators=[Optional()])


class GuaranteeForm(Form):
    guarantee_given = BooleanField(_l("派出单位承诺工资、晋升不受影响"))


class BatchForm(Form):
    year = IntegerField(_l("年度"), validators=[DataRequired(_l("请填写年度"))])
    name = StringField(
        _l("批次名称"), validators=[DataRequired(_l("请填写批次名称")), Length(max=100)]
    )
    purpose = TextAreaField(_l("目的"), validators=[Optional(), Length(max=5000)])


class GroupForm(Form):
    kind = SelectField(
        _l("类别"), choices=[SelectChoice(k.value, _l(v)) for k, v in GROUP_KIND_LABELS.items()]
    )
    name = StringField(_l("名称"), validators=[DataRequired(_l("请填写名称")), Length(max=100)])
    members = TextAreaField(
        _l("成员（每行：姓名 职务 [@账号]）"), validators=[Optional(), Length(max=5000)]
    )
    covered = CheckboxList(_l("负责乡镇"), coerce=int, validate_choice=False)


class CandidateForm(Form):
    name = StringField(_l("姓名"), validators=[DataRequired(_l("请填写姓名")), Length(max=64)])
    rank = StringField(_l("职级"), validators=[Optional(), Length(max=32)])
    sending_unit = StringField(
        _l("派出单位"), validators=[DataRequired(_l("请填写派出单位")), Length(max=100)]
    )
    post_type = SelectField(
        _l("拟任岗位类别"),
        choices=[SelectChoice(k.value, _l(v)) for k, v in POST_TYPE_LABELS.items()],
    )


class ChecksForm(Form):
    discipline_checked_on = DateField(_l("纪检审查日期"), validators=[Optional()])
    discipline_checked_by = StringField(_l("审查机关"), validators=[Optional(), Length(max=100)])
    legal_checked_on = DateField(_l("法律审查日期"), validators=[Optional()])
    legal_checked_by = StringField(_l("审查机关"), validators=[Optional(), Length(max=100)])


class VetoForm(Form):
    veto_reason = StringField(
        _l("处分情况"), validators=[DataRequired(_l("请填写处分情况")), Length(max=300)]
    )
    veto_source = StringField(
        _l("信息来源"), validators=[DataRequired(_l("请填写信息来源")), Length(max=100)]
    )
    veto_on = DateField(_l("处分日期"), validators=[DataRequired(DATE_MSG)])


class CompleteForm(Form):
    selection_completed_on = DateField(_l("选拔完成日期"), validators=[DataRequired(DATE_MSG)])


class SecondForm(Form):
    region_id = SelectField(_l("接收乡镇/村"), coerce=int, validate_choice=False)
    receiving_unit = StringField(
        _l("接收单位"), validators=[DataRequired(_l("请填写接收单位")), Length(max=100)]
    )
    post = StringField(
        _l("挂职岗位"), validators=[DataRequired(_l("请填写挂职岗位")), Length(max=100)]
    )
    post_type = SelectField(
        _l("岗位类别"), choices=[SelectChoice(k.value, _l(v)) for k, v in POST_TYPE_LABELS.items()]
    )
    start_on = DateField(_l("开始日期"), validators=[DataRequired(DATE_MSG)])
    planned_end_on = DateField(_l("计划结束日期"), validators=[DataRequired(DATE_MSG)])
    joint_management = StringField(_l("三方共管"), validators=[Optional(), Length(max=2000)])
    guarantee_given = BooleanField(_l("派出单位承诺工资、晋升不受影响"))
    guarantee_on = DateField(_l("承诺日期"), validators=[Optional()])
    guarantee_note = StringField(_l("承诺说明"), validators=[Optional(), Length(max=300)])
    cadre_username = StringField(
        _l("挂职干部账号（可不填）"), validators=[Optional(), Length(max=64)]
    )
