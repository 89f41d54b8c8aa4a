"""Chinese names of what the audit log records: objects, fields, channels, values.

One table per concept, read by the audit page (and anything else that names a
stored object to a person). Domain value labels (a matter's status, an outage
cause) stay in their package's ``rules`` module; :func:`value_label` looks them
up there. A missing entry shows the raw name, never an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

ENTITY_LABELS = {
    "region": "单位",
    "branch": "党支部",
    "party_group": "党小组",
    "member": "党员",
    "member_fact": "党员状态记录",
    "village_cadre": "村干部",
    "user_account": "用户",
    "api_token": "API 令牌",
    "calendar_override": "工作日调整",
    "meeting": "会议记录",
    "meeting_kind": "会议类型",
    "meeting_attachment": "会议附件",
    "meeting_plan": "会议计划",
    "meeting_rule_override": "会议频次规则",
    "matter_type": "服务事项清单",
    "service_matter": "服务事项",
    "matter_event": "服务事项办理环节",
    "hall_station": "监控站",
    "service_hall": "服务大厅",
    "hall_hours_change": "大厅营业时间调整",
    "hall_exception": "大厅特殊营业日",
    "camera": "摄像头",
    "outage_excuse": "断线情况说明",
    "training": "培训",
    "dues_base": "党费基数",
    "dues_payment": "党费交纳记录",
    "dues_excuse": "党费未交原因",
    "duty_post_category": "无职党员岗位类别",
    "duty_post": "无职党员岗位",
    "duty_assignment": "无职党员设岗",
    "duty_review": "设岗半年评议",
    "pledge": "党员承诺",
    "pledge_progress": "践诺记录",
    "household_link": "党员联系户",
    "household_contact": "联户联系记录",
    "household_help": "联户帮扶记录",
}

# Field names, shared by every object unless ENTITY_FIELD_LABELS says otherwise.
FIELD_LABELS = {
    # 党费 (tracker.dues): amounts are fen (分)
    "effective_month": "起用月份",
    "income_fen": "税后月收入（分）",
    "rate_bp": "比例（万分之一）",
    "monthly_fen": "月交纳额（分）",
    "first_month": "起始月份",
    "last_month": "截止月份",
    "amount_fen": "金额（分）",
    "paid_on": "交纳日期",
    "method": "交纳方式",
    "collector": "收缴人",
    "from_month": "起始月份",
    "until_month": "截止月份",
    # 设岗定责 / 一诺三联四帮 (tracker.teams.duty_models)
    "post_id": "岗位",
    "duties": "岗位职责",
    "started_on": "设岗日期",
    "ended_on": "结束日期",
    "retired_on": "停用日期",
    "letter_signed_on": "责任书签订日期",
    "letter_filename": "责任书文件名",
    "letter_content_type": "责任书文件类型",
    "letter_sha256": "责任书 SHA-256",
    "letter_size": "责任书大小（字节）",
    "assignment_id": "设岗",
    "half": "半年",
    "reviewed_on": "评议日期",
    "grade": "等次",
    "reviewer": "评议组织",
    "cadre_id": "村干部",
    "made_on": "亮诺日期",
    "rated_by": "评诺组织",
    "rating_note": "评语",
    "pledge_id": "党员承诺",
    "link_id": "联系户",
    "head": "户主",
    "what": "帮扶内容",
    "name": "名称",
    "region_id": "所属单位",
    "parent_id": "上级单位",
    "code": "代码",
    "path": "层级路径",
    "level": "层级",
    "branch_id": "党支部",
    "group_id": "党小组",
    "member_id": "党员",
    "hall_id": "服务大厅",
    "camera_id": "摄像头",
    "station_id": "监控站",
    "matter_id": "服务事项",
    "matter_type_id": "事项类型",
    "user_id": "用户",
    "username": "用户名",
    "display_name": "姓名",
    "role": "角色",
    "phone": "电话",
    "email": "电子邮箱",
    "locale": "界面语言",
    "active": "启用",
    "note": "备注",
    "status": "状态",
    "kind": "类型",
    "gender": "性别",
    "birth_year": "出生年份",
    "joined_on": "入党日期",
    "left_on": "离开日期",
    "on": "日期",
    "org": "党组织",
    "letter_no": "介绍信编号",
    "decision": "处理决定",
    "founded_on": "成立日期",
    "tracked_from": "台账起始日期",
    "created_on": "成立日期",
    "dissolved_on": "撤销日期",
    "post": "职务",
    "since": "任职起",
    "until": "任职止",
    "reserve": "后备干部",
    "day": "日期",
    "is_workday": "工作日",
    "frequency": "频次",
    "needs_quorum": "需过半数",
    "started_at": "开始时间",
    "ended_at": "结束时间",
    "place": "地点",
    "host_id": "主持人",
    "recorder": "记录人",
    "lecturer": "授课人",
    "topics": "议题",
    "content": "内容",
    "resolutions": "决议",
    "guests": "列席人员",
    "full_members": "应到正式党员",
    "full_present": "实到正式党员",
    "quorum_met": "过半数",
    "entered_at": "录入时间",
    "entered_by_id": "录入人",
    "late": "补录",
    "late_working_days": "迟录（个工作日）",
    "imported": "导入",
    "version": "版本",
    "deleted_at": "删除时间",
    "deleted_reason": "删除原因",
    "delete_reason": "删除原因",
    "year": "年度",
    "quarter": "季度",
    "planned_on": "计划日期",
    "topic": "主题",
    "filename": "文件名",
    "size": "大小（字节）",
    "serial_no": "登记编号",
    "applicant_name": "申请人",
    "applicant_phone": "申请人电话",
    "applicant_id_number": "身份证号",
    "channel": "受理渠道",
    "received_at": "受理时间",
    "received_on": "受理日期",
    "first_responder_id": "首问责任人",
    "handler_id": "经办人",
    "handler_unit": "经办单位",
    "materials": "所需材料",
    "materials_received": "已收材料",
    "materials_missing": "缺少材料",
    "one_time_notice": "一次性告知",
    "promised_days": "承诺时限（个工作日）",
    "statutory_days": "法定时限（个工作日）",
    "extension_days": "延期（个工作日）",
    "due_on": "承诺办结日期",
    "calendar_official": "官方日历",
    "referred": "已转办",
    "completed_at": "办结时间",
    "completed_on": "办结日期",
    "result": "办理结果",
    "on_time": "按时办结",
    "working_days_used": "用时（个工作日）",
    "rating": "评价",
    "rated_on": "评价日期",
    "rating_void": "评价作废",
    "callback_due_on": "回访期限",
    "called_back_on": "回访日期",
    "callback_on_time": "按时回访",
    "archived_at": "归档时间",
    "category": "类别",
    "handling_level": "办理层级",
    "at": "时间",
    "to_user_id": "转给",
    "to_unit": "转至单位",
    "approver": "批准人",
    "days": "天数",
    "address": "地址",
    "contact_name": "联系人",
    "contact_phone": "联系电话",
    "weekly_hours": "每周营业时间",
    "previous": "原营业时间",
    "effective_from": "起用日期",
    "hours": "营业时间",
    "position": "安装位置",
    "stream_url_masked": "视频地址",
    "stream_url_encrypted": "视频地址（加密保存）",
    "rtsp_transport": "RTSP 传输方式",
    "check_interval_s": "检测间隔（秒）",
    "snapshot_every_min": "定时截图间隔（分）",
    "thresholds": "判定阈值",
    "start": "开始时间",
    "end": "结束时间",
    "reason": "原因",
    "filed_by_id": "提交人",
    "filed_at": "提交时间",
    "decided_by_id": "审核人",
    "decided_at": "审核时间",
    "decision_note": "审核意见",
    "title": "标题",
    "held_on": "举办日期",
    "organizer": "组织单位",
    "other_attendees": "其他参训人员",
    "prefix": "令牌前缀",
    "token_prefix": "令牌前缀",
    "revoked_at": "吊销时间",
    "updated_at": "修改时间",
    "created_at": "创建时间",
}

CHANNEL_LABELS = {
    "web": "网页",
    "api": "接口",
    "cli": "命令行",
    "jobs": "后台任务",
    "job": "后台任务",
    "system": "系统",
    "station": "监控站",
    "import": "导入",
}
ACTION_LABELS = {"insert": "新增", "update": "修改", "delete": "删除"}


def entity_label(entity: str) -> str:
    """The object's name in the page's language (the Chinese label is the message id)."""
    from flask_babel import gettext

    return gettext(ENTITY_LABELS[entity]) if entity in ENTITY_LABELS else entity


def field_label(field: str) -> str:
    from flask_babel import gettext

    return gettext(FIELD_LABELS[field]) if field in FIELD_LABELS else field


def _domain_value_labels(entity: str, field: str) -> dict[str, str]:
    """Value labels kept by the packages (imported lazily: this module is a leaf)."""
    if entity in ("service_matter", "matter_type", "matter_event"):
        from tracker.matters import rules as mr

        tables: dict[str, Any] = {
            "status": mr.STATUS_LABELS,
            "rating": mr.RATING_LABELS,
            "channel": mr.CHANNEL_LABELS,
            "kind": mr.EVENT_LABELS if entity == "matter_event" else mr.KIND_LABELS,
        }
        return {str(k): v for k, v in tables.get(field, {}).items()}
    if entity == "outage_excuse":
        from tracker.halls import rules as hr

        table = {"kind": hr.EXCUSE_KIND_LABELS, "status": hr.EXCUSE_STATUS_LABELS}.get(field, {})
        return dict(table)
    if entity in ("dues_base", "dues_payment") and field in ("category", "method"):
        from tracker.dues import rules as dr

        if field == "category":
            return {str(k): v for k, v in dr.CATEGORY_LABELS.items()}
        return {str(k): v for k, v in dr.METHOD_LABELS.items()}
    if entity == "member_fact" and field in ("kind", "status"):
        from tracker.org.history import LABELS
        from tracker.org.services import STATUS_LABELS

        return {str(k): v for k, v in (LABELS if field == "kind" else STATUS_LABELS).items()}
    if entity in ("duty_review", "pledge", "household_contact", "household_help"):
        from tracker.teams import duty_models as dm

        duty_tables: dict[tuple[str, str], Mapping[Any, str]] = {
            ("duty_review", "grade"): dm.POST_GRADE_LABELS,
            ("pledge", "rating"): dm.RATING_LABELS,
            ("household_contact", "kind"): dm.CONTACT_LABELS,
            ("household_help", "category"): dm.HELP_LABELS,
        }
        return {str(k): v for k, v in duty_tables.get((entity, field), {}).items()}
    if field == "role":
        from tracker.formatting import ROLE_LABELS

        return dict(ROLE_LABELS)
    if field == "level":
        from tracker.formatting import LEVEL_LABELS

        return dict(LEVEL_LABELS)
    return {}


def value_label(entity: str, field: str, value: Any, tz: Any = None) -> str:
    """A stored value as a person reads it: 是/否, local time without seconds, Chinese names."""
    from flask_babel import gettext

    if value is None or value == "":
        return gettext("（空）")
    if isinstance(value, bool):
        return gettext("是") if value else gettext("否")
    if isinstance(value, str):
        labels = _domain_value_labels(entity, field)
        if value in labels:
            return gettext(labels[value])
        if len(value) >= 16 and value[4:5] == "-" and value[10:11] == "T":
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                return value
            if parsed.tzinfo is not None and tz is not None:
                parsed = parsed.astimezone(tz)
            return parsed.strftime("%Y-%m-%d %H:%M")
        return value
    if isinstance(value, datetime):
        return (value.astimezone(tz) if tz and value.tzinfo else value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return "、".join(value_label(entity, field, v, tz) for v in value) or "（空）"
    if isinstance(value, dict):
        return "；".join(f"{k}: {value_label(entity, field, v, tz)}" for k, v in value.items())
    return str(value)
