"""Forms of the reserve-cadre register (Chinese labels and messages)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from tracker.forms import Form
from tracker.teams.models import (
    CAUSE_LABELS,
    GRADE_LABELS,
    OUTCOME_LABELS,
    SOURCE_LABELS,
    STATUS_LABELS,
    TRACK_LABELS,
    ReserveStatus,
    VacancyCause,
)


class ReserveForm(Form):
    member_id = SelectField(_l("在册党员"), coerce=int, validate_choice=False, default=0)
    name = StringField(_l("姓名"), validators=[Optional(), Length(max=32)])
    source = SelectField(
        _l("来源"),
        choices=[SelectChoice(k.value, label) for k, label in SOURCE_LABELS.items()],
        validators=[DataRequired(_l("请选择来源"))],
    )
    track = SelectField(
        _l("培养方向"),
        choices=[SelectChoice(k.value, label) for k, label in TRACK_LABELS.items()],
        validators=[DataRequired(_l("请选择培养方向"))],
    )
    entered_on = DateField(
        _l("入库日期"), validators=[DataRequired(_l("请填写日期，如 2026-03-05"))]
    )
    mentor = StringField(_l("结对培养人"), validators=[Optional(), Length(max=64)])
    plan = TextAreaField(_l("培养计划"), validators=[Optional(), Length(max=5000)])


class AssessmentForm(Form):
    assessed_on = DateField(
        _l("考察日期"), validators=[DataRequired(_l("请填写日期，如 2026-03-05"))]
    )
    assessor = StringField(
        _l("考察人/单位"), validators=[DataRequired(_l("请填写考察人或考察单位")), Length(max=64)]
    )
    result = TextAreaField(
        _l("考察情况"), validators=[DataRequired(_l("请填写考察情况")), Length(max=500)]
    )


class StatusForm(Form):
    status = SelectField(
        _l("状态"),
        choices=[
            SelectChoice(s.value, STATUS_LABELS[s])
            for s in (ReserveStatus.appointed, ReserveStatus.withdrawn)
        ],
        validators=[DataRequired(_l("请选择状态"))],
    )
    status_on = DateField(_l("日期"), validators=[DataRequired(_l("请填写日期，如 2026-03-05"))])
    status_reason = StringField(_l("任用职务或退出原因"), validators=[Optional(), Length(max=200)])


class ImportForm(Form):
    file = FileField(_l("Excel 文件"), validators=[FileRequired(_l("请选择 .xlsx 文件"))])


class CadreAssessmentForm(Form):
    cadre_id = SelectField(_l("村干部"), coerce=int, validate_choice=False)
    year = IntegerField(
        _l("考核年度"),
        validators=[
            DataRequired(_l("请填写考核年度")),
            NumberRange(2000, 2100, _l("考核年度不合理")),
        ],
    )
    grade = SelectField(
        _l("考核等次"),
        choices=[SelectChoice(k.value, label) for k, label in GRADE_LABELS.items()],
        validators=[DataRequired(_l("请选择考核等次"))],
    )
    decided_by = StringField(
        _l("考核（决定）机关"),
        validators=[DataRequired(_l("请填写考核（决定）机关")), Length(max=64)],
    )
    decided_on = DateField(
        _l("考核日期"), validators=[DataRequired(_l("请填写日期，如 2026-03-05"))]
    )
    note = StringField(_l("说明"), validators=[Optional(), Length(max=500)])


class RecallStepForm(Form):
    done_on = DateField(_l("完成日期"), validators=[DataRequired(_l("请填写日期，如 2026-03-05"))])
    note = StringField(_l("情况记录"), validators=[Optional(), Length(max=500)])
    outcome = SelectField(
        _l("处理结果"),
        choices=[SelectChoice("", "—")]
        + [SelectChoice(k.value, label) for k, label in OUTCOME_LABELS.items()],
        validators=[Optional()],
    )


class VacateForm(Form):
    """A serving cadre leaves the post (辞职, 调离 …): the post falls vacant."""

    cadre_id = SelectField(_l("离任村干部"), coerce=int, validate_choice=False)
    vacated_on = DateField(
        _l("空缺日期"), validators=[DataRequired(_l("请填写日期，如 2026-03-05"))]
    )
    cause = SelectField(
        _l("空缺原因"),
        choices=[
            SelectChoice(k.value, _l(label))
            for k, label in CAUSE_LABELS.items()
            if k != VacancyCause.recall
        ],
        validators=[DataRequired(_l("请选择空缺原因"))],
    )
    reason = StringField(_l("情况说明"), validators=[Optional(), Length(max=200)])


class FillForm(Form):
    """Fill a vacant post: from the reserve list, or with a named person and a reason."""

    reserve_id = SelectField(_l("从后备干部中任用"), coerce=int, validate_choice=False, default=0)
    name = StringField(_l("或填写新任人员姓名"), validators=[Optional(), Length(max=32)])
    filled_on = DateField(
        _l("补缺日期"), validators=[DataRequired(_l("请填写日期，如 2026-03-05"))]
    )
    fill_note = StringField(
        _l("说明（未从后备干部中任用的原因）"), validators=[Optional(), Length(max=200)]
    )
