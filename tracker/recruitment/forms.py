"""Forms of recruitment (发展党员): the application, one form per step, the import."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, DecimalField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from tracker.forms import Form
from tracker.org.services import EDUCATIONS
from tracker.recruitment.models import StepKind

DATE_MESSAGE = _l("请填写日期，如 2026-03-05")


class CaseForm(Form):
    """入党申请: who applied, when."""

    region_id = SelectField(_l("所在村"), coerce=int, validate_choice=False)
    name = StringField(_l("姓名"), validators=[DataRequired(_l("请填写姓名")), Length(max=32)])
    gender = SelectField(
        _l("性别"),
        choices=[
            SelectChoice("", "—"),
            SelectChoice("male", _l("男")),
            SelectChoice("female", _l("女")),
        ],
        validators=[Optional()],
    )
    birth_date = DateField(_l("出生日期"), validators=[Optional()])
    phone = StringField(_l("联系电话"), validators=[Optional(), Length(max=20)])
    occupation = StringField(_l("职业"), validators=[Optional(), Length(max=64)])
    education = SelectField(
        _l("学历"),
        choices=[SelectChoice("", "—")] + [SelectChoice(e, e) for e in EDUCATIONS],
        validators=[Optional()],
    )
    applied_on = DateField(_l("递交入党申请书日期"), validators=[DataRequired(DATE_MESSAGE)])
    note = TextAreaField(_l("备注"), validators=[Optional(), Length(max=2000)])


class StepForm(Form):
    """One step; the page shows the fields the step's kind uses (:data:`STEP_FIELDS`)."""

    kind = HiddenField()
    on = DateField(_l("日期"), validators=[DataRequired(DATE_MESSAGE)])
    until = DateField(_l("结束日期"), validators=[Optional()])
    body = StringField(_l("决定机关"), validators=[Optional(), Length(max=64)])
    meeting_id = SelectField(_l("会议记录"), coerce=int, validate_choice=False, default=0)
    training_id = SelectField(_l("培训台账记录"), coerce=int, validate_choice=False, default=0)
    person_a = StringField(_l("培养联系人一"), validators=[Optional(), Length(max=32)])
    person_b = StringField(_l("培养联系人二"), validators=[Optional(), Length(max=32)])
    hours = DecimalField(
        _l("学时"),
        places=1,
        validators=[Optional(), NumberRange(0, 999, _l("学时应在 0 到 999 之间"))],
    )
    passed = SelectField(
        _l("政审结论"),
        choices=[
            SelectChoice("", "—"),
            SelectChoice("1", _l("合格")),
            SelectChoice("0", _l("不合格")),
        ],
        validators=[Optional()],
    )
    result = TextAreaField(_l("情况说明"), validators=[Optional(), Length(max=500)])


# The fields each step's form shows, with the label it gives them there.
STEP_FIELDS: dict[StepKind, list[tuple[str, object]]] = {
    StepKind.talk: [("on", _l("谈话日期")), ("person_a", _l("谈话人")), ("result", _l("谈话情况"))],
    StepKind.activist: [
        ("on", _l("确定日期")),
        ("body", _l("决定机关")),
        ("meeting_id", _l("会议记录（支部委员会）")),
        ("person_a", _l("培养联系人一")),
        ("person_b", _l("培养联系人二")),
    ],
    StepKind.review: [
        ("on", _l("考察日期")),
        ("body", _l("考察人或党小组")),
        ("result", _l("考察意见")),
    ],
    StepKind.candidate: [
        ("on", _l("确定日期")),
        ("body", _l("决定机关")),
        ("meeting_id", _l("会议记录（支部委员会）")),
        ("result", _l("情况说明")),
    ],
    StepKind.political: [
        ("on", _l("政审日期")),
        ("body", _l("审查单位")),
        ("passed", _l("政审结论")),
        ("result", _l("情况说明")),
    ],
    StepKind.training: [
        ("training_id", _l("培训台账记录（可选）")),
        ("on", _l("培训开始日期")),
        ("until", _l("培训结束日期")),
        ("hours", _l("学时")),
        ("body", _l("主办单位")),
    ],
    StepKind.publicity: [
        ("on", _l("公示开始日期")),
        ("until", _l("公示结束日期")),
        ("body", _l("公示单位")),
        ("result", _l("公示结果")),
    ],
    StepKind.admission: [
        ("on", _l("支部党员大会日期")),
        ("meeting_id", _l("支部党员大会记录")),
        ("body", _l("决定机关")),
    ],
    StepKind.approval: [
        ("on", _l("审批日期")),
        ("body", _l("审批的上级党委")),
        ("result", _l("审批意见")),
    ],
    StepKind.extension: [
        ("on", _l("支部党员大会日期")),
        ("meeting_id", _l("支部党员大会记录")),
        ("until", _l("预备期延长至")),
        ("result", _l("延长原因")),
    ],
    StepKind.full: [
        ("on", _l("转正日期")),
        ("meeting_id", _l("支部党员大会记录")),
        ("body", _l("决定机关")),
    ],
    StepKind.cancel: [
        ("on", _l("日期")),
        ("body", _l("决定机关")),
        ("meeting_id", _l("会议记录")),
        ("result", _l("原因")),
    ],
    StepKind.close: [("on", _l("日期")), ("result", _l("终止原因"))],
}
# What a step's body is when the form leaves it empty.
DEFAULT_BODY = {
    StepKind.admission: "党支部党员大会",
    StepKind.full: "党支部党员大会",
    StepKind.extension: "党支部党员大会",
}


class ImportForm(Form):
    file = FileField(_l("Excel 文件"), validators=[FileRequired(_l("请选择 .xlsx 文件"))])
