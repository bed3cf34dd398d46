"""The words of the 12345 work order: codes in English, labels in Chinese for people."""

from __future__ import annotations

from hotline.kernel.api.identity import Labelled


class TicketType(Labelled):
    CONSULT = "consult", "咨询"
    HELP = "help", "求助"
    COMPLAINT = "complaint", "投诉"
    REPORT = "report", "举报"
    SUGGESTION = "suggestion", "建议"
    PRAISE = "praise", "表扬"
    OTHER = "other", "其他"


class Channel(Labelled):
    PHONE = "phone", "电话"
    VOICEMAIL = "voicemail", "语音留言"
    EMAIL = "email", "电子邮件"
    WEB = "web", "网站"
    SMS = "sms", "短信"
    WECHAT = "wechat", "微信"
    FORWARD = "forward", "上下级平台转来"


class Status(Labelled):
    RECEIVED = "received", "待分办"
    NOT_ACCEPTED = "not_accepted", "不予受理"
    DISPATCHED = "dispatched", "待签收"
    RETURN_REQUESTED = "return_requested", "退回待审核"
    IN_PROGRESS = "in_progress", "办理中"
    REPLIED = "replied", "待审核"
    AWAITING_CALLBACK = "awaiting_callback", "待回访"
    UNDER_EVALUATION = "under_evaluation", "专业评价中"
    MERGED = "merged", "已并单"
    ARCHIVED = "archived", "已归档"


class Satisfaction(Labelled):
    SATISFIED = "satisfied", "满意"
    BASICALLY_SATISFIED = "basically_satisfied", "基本满意"
    DISSATISFIED = "dissatisfied", "不满意"
    UNREACHABLE = "unreachable", "未联系上"


class Rejection(Labelled):
    """Why a request is not accepted (不予受理); guidance text tells the citizen where to go."""

    EMERGENCY = "emergency", "紧急求助"
    LEGAL_PROCEDURE = "legal_procedure", "已进入法定程序"
    OTHER_JURISDICTION = "other_jurisdiction", "非本市管辖"
    DISCIPLINE_COURT_ARMY = "discipline_court_army", "纪检监察、法院、检察院、军队职责"
    SECRETS_PRIVACY = "secrets_privacy", "涉及国家机密、商业秘密、个人隐私"
    CIVIL_DISPUTE = "civil_dispute", "民商事纠纷"
    REPEATED = "repeated", "无新情况重复反映"
    UNWORKABLE = "unworkable", "内容不具体或诉求不合理"


GUIDANCE: dict[Rejection, str] = {
    Rejection.EMERGENCY: "涉及人身、财产安全的紧急事项，请立即拨打110、119、120或122求助。",
    Rejection.LEGAL_PROCEDURE: (
        "该事项应通过诉讼、仲裁、行政复议或信访复查复核等法定程序解决，请向相应机关提出。"
    ),
    Rejection.OTHER_JURISDICTION: "该事项不属于本市行政管辖范围，请向事项所在地的12345热线或主管部门反映。",
    Rejection.DISCIPLINE_COURT_ARMY: (
        "涉及党员干部违纪违法的，请向纪检监察机关反映；涉及法院、检察院、军队的，请向相应机关反映。"
    ),
    Rejection.SECRETS_PRIVACY: "该事项涉及国家机密、商业秘密或个人隐私，热线不能受理，请向有关主管机关咨询。",
    Rejection.CIVIL_DISPUTE: "民商事纠纷不属于行政职权范围，可通过人民调解、仲裁或诉讼解决。",
    Rejection.REPEATED: "该诉求已办理并明确答复，如有新情况、新理由，请说明后再次反映。",
    Rejection.UNWORKABLE: "反映内容不具体或诉求违反法律法规、公序良俗，无法办理；请补充具体情况。",
}
