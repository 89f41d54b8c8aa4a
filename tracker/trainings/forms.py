"""The training form (Flask-WTF): fields with Chinese labels and messages."""

from __future__ import annotations

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


class TrainingForm(Form):
    kind = SelectField(
        "培训类别",
        choices=[SelectChoice(k.value, label) for k, label in KIND_LABELS.items()],
        validators=[DataRequired("请选择培训类别")],
    )
    title = StringField("培训主题", validators=[DataRequired("请填写培训主题"), Length(max=100)])
    held_on = DateField("培训日期", validators=[DataRequired("请填写日期，如 2026-03-05")])
    hours = DecimalField(
        "学时",
        places=1,
        validators=[
            InputRequired("请填写学时"),
            NumberRange(min=0.1, max=200, message="学时应在 0.1–200 之间"),
        ],
    )
    place = StringField("培训地点", validators=[DataRequired("请填写培训地点"), Length(max=100)])
    organizer = StringField("组织单位", validators=[Optional(), Length(max=100)])
    lecturer = StringField("授课人", validators=[Optional(), Length(max=64)])
    content = TextAreaField("培训内容", validators=[Optional(), Length(max=5000)])
    attendee_ids = CheckboxList("参训党员", coerce=int, validate_choice=False)
    other_attendees = IntegerField(
        "其他参训人数",
        default=0,
        validators=[Optional(), NumberRange(min=0, max=10000, message="应在 0–10000 之间")],
    )
    reason = StringField("修改原因", validators=[Optional(), Length(max=200)])
    client_token = HiddenField()


class DeleteForm(Form):
    reason = StringField("删除原因", validators=[DataRequired("请填写删除原因"), Length(max=200)])
