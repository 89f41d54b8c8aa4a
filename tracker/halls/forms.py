"""Flask-WTF forms of the hall pages (messages in Chinese, errors beside the field)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    FloatField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from tracker.forms import Form, as_choices
from tracker.halls.rules import WEEKDAY_LABELS


class HallForm(Form):
    region_id = SelectField(
        _l("所属村（社区）"), coerce=int, validators=[InputRequired(_l("请选择村"))]
    )
    name = StringField(
        _l("大厅名称"), validators=[DataRequired(_l("请填写大厅名称")), Length(max=100)]
    )
    address = StringField(_l("地址"), validators=[Optional(), Length(max=200)])
    contact_name = StringField(_l("联系人"), validators=[Optional(), Length(max=32)])
    contact_phone = StringField(_l("联系电话"), validators=[Optional(), Length(max=20)])
    hours_0 = StringField(_l(WEEKDAY_LABELS[0]))
    hours_1 = StringField(_l(WEEKDAY_LABELS[1]))
    hours_2 = StringField(_l(WEEKDAY_LABELS[2]))
    hours_3 = StringField(_l(WEEKDAY_LABELS[3]))
    hours_4 = StringField(_l(WEEKDAY_LABELS[4]))
    hours_5 = StringField(_l(WEEKDAY_LABELS[5]))
    hours_6 = StringField(_l(WEEKDAY_LABELS[6]))
    hours_from = DateField(
        _l("营业时间改动起用日期（留空 = 今天；只重算这一天及以后的监控统计）"),
        validators=[Optional()],
    )


class ExceptionForm(Form):
    day = DateField(_l("日期"), validators=[InputRequired(_l("请选择日期"))])
    hours = StringField(
        _l("当天营业时间（留空 = 全天不开放）"), validators=[Optional(), Length(max=100)]
    )
    note = StringField(_l("说明"), validators=[Optional(), Length(max=100)])


class CameraForm(Form):
    name = StringField(
        _l("摄像头名称"), validators=[DataRequired(_l("请填写名称")), Length(max=64)]
    )
    position = StringField(_l("安装位置"), validators=[Optional(), Length(max=100)])
    stream_url = StringField(
        _l("视频流地址（含账号密码，加密保存）"), validators=[Optional(), Length(max=1000)]
    )
    station_id = SelectField(_l("监控站"), coerce=int)
    check_interval_s = IntegerField(
        _l("检测间隔（秒）"),
        validators=[InputRequired(_l("请填写")), NumberRange(10, 3600, _l("应在 10–3600 之间"))],
    )
    snapshot_every_min = IntegerField(
        _l("定时截图（分钟，0 = 不截）"),
        validators=[InputRequired(_l("请填写")), NumberRange(0, 1440, _l("应在 0–1440 之间"))],
    )
    rtsp_transport = SelectField(
        _l("RTSP 传输"), choices=as_choices([("tcp", _l("TCP（推荐）")), ("udp", "UDP")])
    )
    down_after = IntegerField(
        _l("连续几次异常判定离线"),
        validators=[Optional(), NumberRange(1, 20, _l("应在 1–20 之间"))],
    )
    up_after = IntegerField(
        _l("连续几次正常判定恢复"),
        validators=[Optional(), NumberRange(1, 20, _l("应在 1–20 之间"))],
    )
    black_brightness = FloatField(_l("黑屏亮度阈值"), validators=[Optional(), NumberRange(0, 255)])
    blur_sharpness = FloatField(
        _l("模糊清晰度阈值"), validators=[Optional(), NumberRange(0, 10000)]
    )
    active = BooleanField(_l("启用检测"), default=True)


class ExcuseForm(Form):
    kind = SelectField(_l("原因类别"))
    start = DateTimeLocalField(
        _l("开始时间"), format="%Y-%m-%dT%H:%M", validators=[InputRequired(_l("请填写开始时间"))]
    )
    end = DateTimeLocalField(
        _l("结束时间"), format="%Y-%m-%dT%H:%M", validators=[InputRequired(_l("请填写结束时间"))]
    )
    reason = TextAreaField(
        _l("情况说明"), validators=[DataRequired(_l("请填写情况说明")), Length(max=2000)]
    )


class DecisionForm(Form):
    decision = SelectField(
        _l("审核"), choices=as_choices([("approve", _l("批准")), ("reject", _l("驳回"))])
    )
    note = StringField(_l("审核意见"), validators=[Optional(), Length(max=500)])


class StationForm(Form):
    name = StringField(
        _l("监控站名称"), validators=[DataRequired(_l("请填写监控站名称")), Length(max=64)]
    )
    region_id = SelectField(
        _l("所属（县或乡镇）"), coerce=int, validators=[InputRequired(_l("请选择"))]
    )


class ResidentForm(Form):
    """A service resident in a hall (场所功能提升)."""

    kind = SelectField(_l("服务类型"), validators=[DataRequired(_l("请选择服务类型"))])
    name = StringField(
        _l("服务名称"), validators=[DataRequired(_l("请填写服务名称")), Length(max=64)]
    )
    provider = StringField(
        _l("提供单位"), validators=[DataRequired(_l("请填写提供单位")), Length(max=100)]
    )
    since = DateField(_l("入驻日期"), validators=[DataRequired(_l("请填写日期，如 2026-03-05"))])
    until = DateField(_l("撤出日期"), validators=[Optional()])
    opening_hours = StringField(_l("服务时间"), validators=[Optional(), Length(max=100)])
    unit = SelectField(_l("月度统计口径"), validators=[DataRequired(_l("请选择统计口径"))])
    contact_phone = StringField(_l("联系电话"), validators=[Optional(), Length(max=20)])
    note = TextAreaField(_l("备注"), validators=[Optional(), Length(max=500)])


class ActivityForm(Form):
    """One month's activity figure of a resident service, typed in."""

    month = StringField(
        _l("月份"), validators=[DataRequired(_l("请填写月份，如 2026-03")), Length(max=7)]
    )
    value = IntegerField(
        _l("数量"),
        validators=[
            InputRequired(_l("请填写数量")),
            NumberRange(min=0, max=10_000_000, message=_l("数量应在 0–10000000 之间")),
        ],
    )


class ResidentImportForm(Form):
    """An .xlsx of the resident services' monthly figures (村（社区）, 服务名称, 月份, 数量)."""

    file = FileField(_l("Excel 文件"), validators=[FileRequired(_l("请选择 .xlsx 文件"))])
    hall_id = HiddenField()
