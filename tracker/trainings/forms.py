"""The training form (Flask-WTF): fields with Chinese labels and messages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from tracker.forms import Form
from tracker.trainings.models import KIND_LABELS


class CheckboxList(SelectMultipleField):
    """Roster as a list of checkboxes (fast to tick on a phone)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class SessionForm(Form):
    """The fields every register's training session has (the three forms below derive)."""

    title = StringField(
        _l("培训主题"), validators=[DataRequired(_l("请填写培训主题")), Length(max=100)]
    )
    held_on = DateField(_l("培训日期"), validators=[DataRequired(_l("请填写日期，如 2026-03-05"))])
    hours = DecimalField(
        _l("学时"),
        places=1,
        validators=[
            InputRequired(_l("请填写学时")),
            NumberRange(min=0.1, max=200, message=_l("学时应在 0.1–200 之间")),
        ],
    )
    place = StringField(
        _l("培训地点"), validators=[DataRequired(_l("请填写培训地点")), Length(max=100)]
    )
    organizer = StringField(_l("组织单位"), validators=[Optional(), Length(max=100)])
    content = TextAreaField(_l("培训内容"), validators=[Optional(), Length(max=5000)])


class TrainingForm(SessionForm):
    kind = SelectField(
        _l("培训类别"),
        choices=[SelectChoice(k.value, _l(label)) for k, label in KIND_LABELS.items()],
        validators=[DataRequired(_l("请选择培训类别"))],
    )
    lecturer = StringField(_l("授课人"), validators=[Optional(), Length(max=64)])
    attendee_ids = CheckboxList(_l("参训党员"), coerce=int, validate_choice=False)
    other_attendees = IntegerField(
        _l("其他参训人数"),
        default=0,
        validators=[Optional(), NumberRange(min=0, max=10000, message=_l("应在 0–10000 之间"))],
    )
    reason = StringField(_l("修改原因"), validators=[Optional(), Length(max=200)])
    client_token = HiddenField()


class DeleteForm(Form):
    reason = StringField(
        _l("删除原因"), validators=[DataRequired(_l("请填写删除原因")), Length(max=200)]
    )


class FarmerTrainingForm(SessionForm):
    """农民教育培训 (topics from ``[trainings] farmer_topics``, set by the view)."""

    topic = SelectField(_l("专题类别"), validators=[DataRequired(_l("请选择培训专题类别"))])
    lecturer = StringField(_l("授课人"), validators=[Optional(), Length(max=64)])
    trainee_count = IntegerField(
        _l("参训人数（未逐一登记）"),
        default=0,
        validators=[Optional(), NumberRange(min=0, max=10000, message=_l("应在 0–10000 之间"))],
    )
    trainees = TextAreaField(
        _l("逐一登记的学员（每行：姓名 电话）"), validators=[Optional(), Length(max=20000)]
    )


class FarmerImportForm(Form):
    """An .xlsx of farmer trainings in the export's columns (all rows or none)."""

    file = FileField(_l("Excel 文件"), validators=[FileRequired(_l("请选择 .xlsx 文件"))])


class ConcentratedForm(SessionForm):
    """每年集中培训 of a township or village organization."""

    participants = IntegerField(
        _l("参训人数"),
        validators=[
            InputRequired(_l("请填写参训人数")),
            NumberRange(min=1, max=100000, message=_l("参训人数应在 1–100000 之间")),
        ],
    )
